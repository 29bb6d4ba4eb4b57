//! apibay search answers. The invariants live in `src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| torrentql_fuzz::apibay(data));
