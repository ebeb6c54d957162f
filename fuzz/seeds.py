#!/usr/bin/env python3
"""Writes the starting corpus of each fuzz target into DIR/<target>/, from the known-answer
vectors in crates/hush-proto/tests/vectors (session-protocol.md §13) and a few hand-written
requests. Run by fuzz/run; safe to run again (files are named by content)."""

import hashlib
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
vectors = root / "crates" / "hush-proto" / "tests" / "vectors"
out = pathlib.Path(sys.argv[1])


def load(name):
    return json.loads((vectors / f"{name}.json").read_text())


def seed(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)


onion = load("onion")
for case in onion["parse_layer"]:
    seed("onion", bytes.fromhex(case["layer"]))
for case in onion["hop_decrypt"]:
    seed("onion", bytes.fromhex(case["ciphertext"]))

for case in load("session_encrypt")["deterministic"]:
    seed("envelope", bytes.fromhex(case["ciphertext"]))

profile = load("config_user_profile")
for key in ("empty_push_wrapped", "push1_encrypted"):
    seed("config", bytes.fromhex(profile[key]))
    seed("protobuf", bytes.fromhex(profile[key]))
seed("config", b"d1:#i1e1:&d1:n5:Alicee1:<le1:=d1:n0:ee")
seed("config", b"d1:#i2e1:&de1:<lli1e32:" + bytes(32) + b"deee1:=de1:~de")
seed("config", b"li1ei-2e3:abcd1:xl1:yee")

words = load("mnemonic")
for case in words["encode"]:
    seed("recovery_password", case["words"])
for case in words["decode_equivalent"]:
    seed("recovery_password", case["words"])

for case in load("slip39"):
    # Trezor's vectors: [description, mnemonics, master secret hex, xprv].
    if isinstance(case, list) and len(case) >= 2 and isinstance(case[1], list):
        seed("slip39", "\n".join(case[1]))

pubkey = "05" + "ab" * 32
requests = [
    {"method": "store", "params": {"pubkey": pubkey, "timestamp": 1700000000000,
                                   "ttl": 86400000, "data": "aGVsbG8="}},
    {"method": "retrieve", "params": {"pubkey": pubkey, "namespace": 2, "last_hash": "",
                                      "timestamp": 1700000000000, "signature": "A" * 86,
                                      "pubkey_ed25519": "cd" * 32, "wait": 1000}},
    {"method": "delete", "params": {"pubkey": pubkey, "messages": ["a" * 43]}},
    {"method": "expire", "params": {"pubkey": pubkey, "messages": ["a" * 43],
                                    "expiry": 1700000000000, "shorten": True}},
    {"method": "batch", "params": {"requests": [
        {"method": "retrieve", "params": {"pubkey": pubkey}},
        {"method": "get_swarm", "params": {"pubkey": pubkey}}], "wait": 5}},
    {"method": "revoke_subaccount", "params": {"pubkey": pubkey, "revoke": "00" * 36}},
    {"method": "network_registry", "params": {}},
]
for r in requests:
    seed("storage_rpc", json.dumps(r))

seed("registry", json.dumps({"body": {"network": "hush-devnet", "seq": 1, "nodes": []},
                             "signature": "00" * 64}))
seed("protobuf", bytes.fromhex("0801120a0a0568656c6c6f"))
