//! Jellyfin's library list and login answers. The invariants live in `src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| torrentql_fuzz::jellyfin(data));
