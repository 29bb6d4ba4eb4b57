//! Info hashes, as users type them (hex or base32). The invariants live in `src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| torrentql_fuzz::info_hash(data));
