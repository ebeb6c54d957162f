//! HTTP-level behaviour: limits, errors, metrics.

use serde_json::json;

use super::{Account, TestNode, b64};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413() {
    let node = TestNode::start_with(|c| c.max_request_bytes = 200_000).await;
    // The node answers 413 as soon as it sees the declared length, without reading the body;
    // a client still writing may see the connection close instead of the answer.
    for path in ["/storage_rpc/v1", "/onion_req/v2"] {
        let url = format!("{}{path}", node.handle.url());
        match node.http.post(url).body(vec![b'x'; 300_000]).send().await {
            Ok(resp) => {
                assert_eq!(resp.status().as_u16(), 413);
                assert_eq!(resp.text().await.unwrap(), "Request body too large");
            }
            Err(e) => assert!(e.is_request(), "{e}"),
        }
    }
    // Just under the limit is read (and refused only as JSON). A fresh client: the pooled
    // connection may be one the node closed after its 413.
    let resp = crate::client()
        .post(format!("{}/storage_rpc/v1", node.handle.url()))
        .body(vec![b'x'; 199_000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    // Still serving.
    assert_eq!(node.rpc("info", json!({})).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_per_address() {
    let node = TestNode::start_with(|c| {
        c.rate_limit_per_ip = 5;
        c.rate_limit_burst = 10;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(node.rpc("info", json!({})).await.0);
    }
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert!(statuses[..10].iter().all(|&s| s == 200), "{statuses:?}");
    assert!(limited >= 15, "{statuses:?}");
    let metrics = node
        .http
        .get(format!("{}/metrics", node.handle.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains(&format!("hush_node_rate_limited_total {limited}")), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_unknown_paths_and_metrics() {
    let node = TestNode::start().await;
    let resp = node
        .http
        .post(format!("{}/storage_rpc/v1", node.handle.url()))
        .header("X-Loki-Long-Poll", "true")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 410);
    let (status, body) = node.post("/nope", "").await;
    assert_eq!(status, 404);
    assert_eq!(body, b"POST /nope Not Found");

    let alice = Account::new(1);
    let p = json!({"pubkey": alice.hex(), "timestamp": node.now(), "ttl": 60_000, "data": b64(&[1; 300])});
    assert_eq!(node.rpc("store", p).await.0, 200);
    node.rpc("frobnicate", json!({})).await;
    let metrics = node
        .http
        .get(format!("{}/metrics", node.handle.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "hush_node_rpc_requests_total{method=\"store\",status=\"200\"} 1",
        "hush_node_rpc_requests_total{method=\"unknown\",status=\"400\"} 1",
        "hush_node_stored_messages 1",
        "hush_node_stored_bytes 300",
        "hush_node_messages_stored_total 1",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in:\n{metrics}");
    }
    // No account IDs in metrics.
    assert!(!metrics.contains(&alice.hex()[..16]));
}

/// A small deterministic generator for junk inputs (xorshift).
struct Junk(u64);

impl Junk {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = (self.next() as usize) % max;
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// JSON-shaped junk: real method names with values of the wrong types and sizes.
    fn request(&mut self) -> String {
        const METHODS: [&str; 16] = [
            "store",
            "retrieve",
            "delete",
            "delete_all",
            "delete_before",
            "expire",
            "expire_all",
            "get_expiries",
            "get_swarm",
            "info",
            "batch",
            "sequence",
            "revoke_subaccount",
            "unrevoke_subaccount",
            "oxend_request",
            "nope",
        ];
        const KEYS: [&str; 14] = [
            "pubkey",
            "namespace",
            "timestamp",
            "ttl",
            "expiry",
            "data",
            "signature",
            "messages",
            "last_hash",
            "max_count",
            "max_size",
            "subaccount",
            "requests",
            "pubkey_ed25519",
        ];
        let values = [
            json!(null),
            json!(-1),
            json!(u64::MAX),
            json!(1.5),
            json!("all"),
            json!([]),
            json!({}),
            json!("A".repeat(43)),
            json!("05".repeat(33)),
            json!([{"method": "info", "params": {}}]),
            json!(i64::MIN),
            json!("=="),
            json!(vec!["x"; 30]),
        ];
        let method = METHODS[(self.next() as usize) % METHODS.len()];
        let mut params = serde_json::Map::new();
        for _ in 0..(self.next() % 6) {
            let k = KEYS[(self.next() as usize) % KEYS.len()];
            params.insert(k.to_owned(), values[(self.next() as usize) % values.len()].clone());
        }
        json!({"method": method, "params": params}).to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_never_crashes_the_node() {
    let node = TestNode::start().await;
    let mut junk = Junk(0x9e37_79b9_7f4a_7c15);
    for _ in 0..400 {
        let (status, _) = node.post("/storage_rpc/v1", junk.request()).await;
        assert!((200..600).contains(&status));
        let (status, _) = node.post("/storage_rpc/v1", junk.bytes(300)).await;
        assert_eq!(status, 400);
        let (status, _) = node.post("/onion_req/v2", junk.bytes(600)).await;
        assert_eq!(status, 400);
        let (status, _) = node.post("/json_rpc", junk.bytes(100)).await;
        assert!(status == 400 || status == 200);
    }
    assert_eq!(node.rpc("info", json!({})).await.0, 200, "still serving");
}
