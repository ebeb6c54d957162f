//! A network kept in a folder (what `hush devnet` runs) resumes with the same keys, ports,
//! registry and messages.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;

use hush_testnet::Testnet;

use crate::{Account, Client, all_hold};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_in_a_folder_resumes_with_its_keys_ports_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new();
    let account = Account::new(7);

    let net = Testnet::builder().nodes(5).dir(dir.path()).start().await.unwrap();
    let first_file = net.network_file().clone();
    // One network per folder.
    let second = Testnet::builder().nodes(5).dir(dir.path()).start().await;
    assert!(matches!(second, Err(hush_testnet::Error::Busy(_))), "{second:?}");
    let swarm = net.swarm_of(&account.id());
    let hash = client.store(&net.url(swarm[0]).unwrap(), &account, b"kept").await.unwrap();
    net.shutdown().await;
    let mode = std::fs::metadata(dir.path().join("network.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // Same folder, no node count: the same five nodes, same ports, same registry.
    let net = Testnet::builder().dir(dir.path()).start().await.unwrap();
    assert_eq!(net.len(), 5);
    assert_eq!(net.network_file(), &first_file);
    let expected = HashSet::from([hash.clone()]);
    assert!(all_hold(&client, &net, &swarm, &account, &expected).await);
    let ports: Vec<u16> = (0..5).map(|i| net.entry(i).unwrap().https_port).collect();
    net.shutdown().await;

    // A port taken meanwhile: that node moves, the registry gets a new version, nothing is
    // lost.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", ports[2])).unwrap();
    let net = Testnet::builder().dir(dir.path()).start().await.unwrap();
    drop(squatter);
    assert_ne!(net.entry(2).unwrap().https_port, ports[2]);
    assert_eq!(net.seq(), first_file.registry.as_ref().unwrap().body.seq + 1);
    let written = hush_node::admin::read_network_file(net.network_file_path()).unwrap();
    assert_eq!(&written, net.network_file());
    assert!(all_hold(&client, &net, &net.swarm_of(&account.id()), &account, &expected).await);
    net.shutdown().await;
}
