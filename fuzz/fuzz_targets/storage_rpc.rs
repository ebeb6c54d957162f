//! A node reading a storage RPC body (directly, or the innermost layer of an onion request):
//! JSON bounded by its number of values, the method, every parameter, batches.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hush_proto::storage_rpc::read_body(data);
});
