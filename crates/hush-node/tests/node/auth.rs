//! Authentication rules (session-protocol.md §5.4): signatures, clocks, `pubkey_ed25519`,
//! group keys, subaccount tokens with their flags, prefixes and revocations.

use hush_proto::{AccountId, IdPrefix};
use hush_sodium::Secret;
use hush_sodium::ed25519::Ed25519KeyPair;
use serde_json::{Value, json};

use super::{Account, TestNode, b64, with};

const DAY: u64 = 86_400_000;
const READ: u8 = 1;
const WRITE: u8 = 2;
const DELETE: u8 = 4;
const ANY_PREFIX: u8 = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_clock_window_and_pubkey_ed25519() {
    let node = TestNode::start().await;
    let alice = Account::new(1);
    let now = node.now();
    assert_eq!(node.rpc("retrieve", alice.auth("retrieve", 0, now)).await.0, 200);
    // Within ±60 s is fine; beyond is a clock error.
    assert_eq!(node.rpc("retrieve", alice.auth("retrieve", 0, now - 59_000)).await.0, 200);
    assert_eq!(node.rpc("retrieve", alice.auth("retrieve", 0, now + 59_000)).await.0, 200);
    for ts in [now - 61_000, now + 61_000] {
        let (status, body) = node.rpc("retrieve", alice.auth("retrieve", 0, ts)).await;
        assert_eq!(status, 406, "{body}");
    }
    // A signature over something else.
    let mut bad = alice.auth("retrieve", 0, now);
    bad["signature"] = json!(alice.sign(b"retrieve0"));
    let (status, body) = node.rpc("retrieve", bad).await;
    assert_eq!((status, body.as_str().unwrap()), (401, "retrieve signature verification failed"));
    // Signed by someone else's key, presented as theirs.
    let mallory = Account::new(66);
    let mut forged = mallory.auth("retrieve", 0, now);
    forged["pubkey"] = json!(alice.hex());
    assert_eq!(
        node.rpc("retrieve", forged).await.0,
        401,
        "pubkey_ed25519 must match the Account ID"
    );
    // No pubkey_ed25519 for a 05 account.
    let mut missing = alice.auth("retrieve", 0, now);
    missing.as_object_mut().unwrap().remove("pubkey_ed25519");
    assert_eq!(node.rpc("retrieve", missing).await.0, 401);
    // Signed by the right key but for another namespace.
    let mut ns = alice.auth("retrieve", 0, now);
    ns["namespace"] = json!(3);
    assert_eq!(node.rpc("retrieve", ns).await.0, 401);
    // A timestamp without a signature needs one.
    let (status, body) =
        node.rpc("retrieve", json!({"pubkey": alice.hex(), "timestamp": now})).await;
    assert_eq!((status, body.as_str().unwrap()), (401, "retrieve: request signature required"));
    // A signature without a timestamp is a malformed request.
    let mut no_ts = alice.auth("retrieve", 0, now);
    no_ts.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(node.rpc("retrieve", no_ts).await.0, 400);
    // pubkey_ed25519 is only for 05 accounts.
    let group = Group::new(3);
    let p = json!({"pubkey": group.id.to_string(), "pubkey_ed25519": alice.ed_hex(), "timestamp": now, "signature": alice.sign(b"x")});
    assert_eq!(node.rpc("retrieve", p).await.0, 400);
}

/// A group (03) account: its Ed25519 key is the Account ID.
struct Group {
    keys: Ed25519KeyPair,
    id: AccountId,
}

impl Group {
    fn new(seed: u8) -> Self {
        let keys = Ed25519KeyPair::from_seed(&Secret::from_array([seed; 32]));
        let id = AccountId::new(IdPrefix::Group, *keys.public().as_bytes());
        Self { keys, id }
    }

    fn sign(&self, message: &[u8]) -> String {
        b64(self.keys.sign(message).as_bytes())
    }

    /// A member token for `member` with `flags`, signed by the group key.
    fn token(&self, member: &Ed25519KeyPair, flags: u8, prefix: u8) -> ([u8; 36], String) {
        let mut token = [0u8; 36];
        token[0] = prefix;
        token[1] = flags;
        token[4..].copy_from_slice(member.public().as_bytes());
        (token, self.sign(&token))
    }
}

/// Params signed by a subaccount `member` holding `token`.
fn sub_params(
    group: &Group,
    member: &Ed25519KeyPair,
    token: &([u8; 36], String),
    message: &str,
    extra: Value,
) -> Value {
    with(
        json!({
            "pubkey": group.id.to_string(),
            "subaccount": b64(&token.0),
            "subaccount_sig": token.1,
            "signature": b64(member.sign(message.as_bytes()).as_bytes()),
        }),
        extra,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_keys_and_subaccount_flags() {
    let node = TestNode::start().await;
    let group = Group::new(3);
    let member = Ed25519KeyPair::from_seed(&Secret::from_array([4; 32]));
    let now = node.now();
    // The group key signs directly.
    let p = json!({"pubkey": group.id.to_string(), "namespace": 11, "timestamp": now, "ttl": DAY,
                   "data": b64(b"hi"), "signature": group.sign(format!("store11{now}").as_bytes())});
    assert_eq!(node.rpc("store", p).await.0, 200);

    let store_as = |token: &([u8; 36], String)| {
        sub_params(
            &group,
            &member,
            token,
            &format!("store11{now}"),
            json!({"namespace": 11, "timestamp": now, "ttl": DAY, "data": b64(b"m")}),
        )
    };
    let retrieve_as = |token: &([u8; 36], String), ns: i16| {
        sub_params(
            &group,
            &member,
            token,
            &format!("retrieve{ns}{now}"),
            json!({"namespace": ns, "timestamp": now}),
        )
    };
    // Read-only member: may retrieve, may not store.
    let reader = group.token(&member, READ, 0x03);
    assert_eq!(node.rpc("retrieve", retrieve_as(&reader, 11)).await.0, 200);
    assert_eq!(node.rpc("store", store_as(&reader)).await.0, 401);
    // Read+write member: may store.
    let writer = group.token(&member, READ | WRITE, 0x03);
    assert_eq!(node.rpc("store", store_as(&writer)).await.0, 200);
    // A token signed by someone else is refused.
    let forged = (writer.0, b64(member.sign(&writer.0).as_bytes()));
    assert_eq!(node.rpc("store", store_as(&forged)).await.0, 401);
    // A 05-prefixed token does not work on a 03 account, unless it allows any prefix.
    let wrong_prefix = group.token(&member, READ | WRITE, 0x05);
    assert_eq!(node.rpc("retrieve", retrieve_as(&wrong_prefix, 11)).await.0, 401);
    let any_prefix = group.token(&member, READ | ANY_PREFIX, 0x05);
    assert_eq!(node.rpc("retrieve", retrieve_as(&any_prefix, 11)).await.0, 200);
    // Deleting needs the delete flag.
    let (_, body) = node.rpc("retrieve", retrieve_as(&reader, 11)).await;
    let hash = body["messages"][0]["hash"].as_str().unwrap().to_owned();
    let delete_as = |token: &([u8; 36], String)| {
        sub_params(&group, &member, token, &format!("delete{hash}"), json!({"messages": [hash]}))
    };
    assert_eq!(node.rpc("delete", delete_as(&writer)).await.0, 401);
    // Shortening an expiry with a token lacking delete access is refused outright.
    let exp = now + DAY / 2;
    let shorten = sub_params(
        &group,
        &member,
        &writer,
        &format!("expireshorten{exp}{hash}"),
        json!({"messages": [hash], "expiry": exp, "shorten": true}),
    );
    let (status, body) = node.rpc("expire", shorten).await;
    assert_eq!(status, 400, "{body}");
    let deleter = group.token(&member, READ | WRITE | DELETE, 0x03);
    let (status, body) = node.rpc("delete", delete_as(&deleter)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_subaccounts_lose_access_except_unrevocable_namespaces() {
    let node = TestNode::start().await;
    let group = Group::new(5);
    let member = Ed25519KeyPair::from_seed(&Secret::from_array([6; 32]));
    let token = group.token(&member, READ | WRITE, 0x03);
    let now = node.now();
    let retrieve_as = |ns: i16| {
        sub_params(
            &group,
            &member,
            &token,
            &format!("retrieve{ns}{now}"),
            json!({"namespace": ns, "timestamp": now}),
        )
    };
    assert_eq!(node.rpc("retrieve", retrieve_as(11)).await.0, 200);

    let revocation = |method: &str, key: &str| {
        let mut msg = format!("{method}{now}").into_bytes();
        msg.extend_from_slice(&token.0);
        json!({"pubkey": group.id.to_string(), "timestamp": now, key: b64(&token.0), "signature": group.sign(&msg)})
    };
    // Only the group's own key may revoke: a member's signature is refused.
    let mut by_member = revocation("revoke_subaccount", "revoke");
    by_member["signature"] = json!(b64(member.sign(b"revoke_subaccount").as_bytes()));
    assert_eq!(node.rpc("revoke_subaccount", by_member).await.0, 401);

    assert_eq!(
        node.rpc("revoke_subaccount", revocation("revoke_subaccount", "revoke")).await.0,
        200
    );
    assert_eq!(node.rpc("retrieve", retrieve_as(11)).await.0, 401);
    // -11 is unrevocable: revoked members may still read it.
    assert_eq!(node.rpc("retrieve", retrieve_as(-11)).await.0, 200);

    assert_eq!(
        node.rpc("unrevoke_subaccount", revocation("unrevoke_subaccount", "unrevoke")).await.0,
        200
    );
    assert_eq!(node.rpc("retrieve", retrieve_as(11)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subaccounts_of_standard_accounts_are_signed_with_pubkey_ed25519() {
    let node = TestNode::start().await;
    let alice = Account::new(1);
    let device = Ed25519KeyPair::from_seed(&Secret::from_array([8; 32]));
    let mut token = [0u8; 36];
    token[0] = 0x05;
    token[1] = READ;
    token[4..].copy_from_slice(device.public().as_bytes());
    let now = node.now();
    let p = json!({
        "pubkey": alice.hex(), "pubkey_ed25519": alice.ed_hex(), "timestamp": now,
        "subaccount": hex::encode(token), "subaccount_sig": alice.sign(&token),
        "signature": b64(device.sign(format!("retrieve{now}").as_bytes()).as_bytes()),
    });
    assert_eq!(node.rpc("retrieve", p.clone()).await.0, 200);
    // Without pubkey_ed25519 the token's signature cannot be checked.
    let mut without = p;
    without.as_object_mut().unwrap().remove("pubkey_ed25519");
    assert_eq!(node.rpc("retrieve", without).await.0, 401);
}
