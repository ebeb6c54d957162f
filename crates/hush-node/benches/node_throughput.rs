//! Placeholder: replaced by the throughput benchmark in the next commit.
fn main() {}
