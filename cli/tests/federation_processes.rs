//! Two `huren serve` processes on 127.0.0.1 set up with the ceremony CLI (`registry node
//! add|set`): a Henan code checked at the node that does not serve Henan is forwarded to the node
//! that does, and gets the verdict a local read gets; the serving node audits the original caller.
//! A lookup by ID card of a Henan resident is forwarded the same way.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use huren::connect::{ClientTls, connect};
use huren_certs::{Ca, LeafSpec, Manifest};
use huren_proto::v1::lookup_service_client::LookupServiceClient;
use huren_proto::v1::{LookupPersonRequest, StatusSource, Verdict};
use tonic::transport::Channel;

#[path = "support/federation.rs"]
mod fed;
#[allow(dead_code)] // this test uses the command helpers only
mod support;

use fed::verify;
use support::p;

/// `huren ARGS` in `dir`; its output.
fn huren(dir: &Path, args: &[&str]) -> String {
    support::huren_ok(dir, args)
}

/// A long-running `huren` process, killed when the test ends; its stderr goes to `log`.
fn spawn(dir: &Path, args: &[&str], log: &str) -> tokio::process::Child {
    let log = std::fs::File::create(dir.join(log)).expect("log file");
    tokio::process::Command::from(support::command(dir, args))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn huren")
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

async fn channel(addr: SocketAddr, tls: &ClientTls, log: &Path) -> Channel {
    let started = Instant::now();
    loop {
        if let Ok(channel) = connect(addr, tls).await {
            return channel;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no gateway on {addr}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Henan's reference service and two nodes, running: "west" serves Sichuan and Henan, the dev
/// node gateway-1 the rest; a dev checkpoint connected to each.
struct TwoNodes {
    tmp: tempfile::TempDir,
    pki: std::path::PathBuf,
    henan_data: std::path::PathBuf,
    checkpoint: huren_certs::ClientEntry,
    at_gateway_1: Channel,
    at_west: Channel,
    _processes: Vec<tokio::process::Child>,
}

impl TwoNodes {
    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// A code issued to resident `id` at Henan's service, through its data directory.
    fn issue_henan(&self, id: &str, name: &str) -> String {
        let payload = huren(
            self.dir(),
            &[
                "region",
                "issue",
                "--region",
                "410000",
                "--id",
                id,
                "--name",
                name,
                "--colour",
                "GREEN",
                "--pki",
                p(&self.pki),
                "--data",
                p(&self.henan_data),
            ],
        );
        payload.trim().to_string()
    }

    /// Every record of west's audit log.
    fn west_audit(&self) -> Vec<huren_audit::Record> {
        let mut audited = Vec::new();
        huren_audit::walk(&self.dir().join("west-state/audit"), |r, _| {
            audited.push(r.clone())
        })
        .expect("west's audit log");
        audited
    }
}

async fn two_nodes() -> TwoNodes {
    huren::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (pki, reg) = (dir.join("pki"), dir.join("reg"));
    huren(dir, &["certs", "init", "--out", p(&pki)]);
    let manifest = Manifest::load(&pki).expect("manifest");

    // Henan's reference status service, and a registry pointing at it.
    let henan = free_port();
    let henan_data = dir.join("henan");
    let status_url = format!("410000=https://{henan}");
    huren(
        dir,
        &[
            "registry",
            "init",
            "--pki",
            p(&pki),
            "--out",
            p(&reg),
            "--status-url",
            &status_url,
        ],
    );
    let henan_service = spawn(
        dir,
        &[
            "region",
            "serve",
            "--region",
            "410000",
            "--pki",
            p(&pki),
            "--listen",
            &henan.to_string(),
            "--data",
            p(&henan_data),
        ],
        "henan.log",
    );

    // Node "west" (Sichuan's CA issued its certificate) serves Sichuan and Henan; the dev node
    // gateway-1 keeps the rest.
    let sichuan = manifest.region("510000").expect("Sichuan in the PKI");
    let ca = Ca::load(
        &std::fs::read_to_string(pki.join(&sichuan.ca)).unwrap(),
        &std::fs::read_to_string(pki.join(&sichuan.ca_key)).unwrap(),
    )
    .expect("Sichuan CA");
    let west_id = huren_certs::spiffe_id(&manifest.trust_domain, "510000", "gateway", "west");
    let mut leaf = LeafSpec::server("huren node west", &west_id);
    leaf.client_auth = true;
    let (cert, key) = ca.issue(&leaf).expect("west certificate");
    std::fs::write(dir.join("west.pem"), format!("{cert}{}", ca.cert_pem)).unwrap();
    std::fs::write(dir.join("west.key"), key).unwrap();
    let receipt = dir.join("west-receipt.pem");
    huren(dir, &["registry", "keygen", "--out", p(&receipt)]);

    let (gateway_1, west) = (free_port(), free_port());
    let endpoint = |a: SocketAddr| format!("https://{a}");
    let (ep1, ep2) = (endpoint(gateway_1), endpoint(west));
    huren(
        dir,
        &[
            "registry",
            "node",
            "set",
            "--reg",
            p(&reg),
            "--id",
            "gateway-1",
            "--region",
            "330000",
            "--region",
            "440000",
            "--region",
            "430000",
            "--region",
            "420000",
            "--region",
            "000000",
            "--endpoint",
            &ep1,
        ],
    );
    huren(
        dir,
        &[
            "registry",
            "node",
            "add",
            "--reg",
            p(&reg),
            "--id",
            "west",
            "--spiffe-id",
            &west_id,
            "--region",
            "510000",
            "--region",
            "410000",
            "--endpoint",
            &ep2,
            "--receipt-key",
            p(&receipt.with_extension("pub")),
        ],
    );
    for k in ["root-1", "root-2"] {
        let key = reg.join(format!("keys/{k}.pem"));
        huren(
            dir,
            &[
                "registry",
                "sign",
                "--reg",
                p(&reg),
                "--doc",
                "root",
                "--key",
                p(&key),
            ],
        );
    }
    huren(dir, &["registry", "publish", "--reg", p(&reg)]);

    let region_cas: String = manifest
        .regions
        .iter()
        .map(|r| format!("\"{}\" = \"{}\"\n", r.region, p(&pki.join(&r.ca))))
        .collect();
    let west_config = format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"\nclient_roots = \"{}\"\ntrust_domain = \"{}\"\n\
         [tls.region_cas]\n{region_cas}\n[node]\nregistry = \"{}\"\nstate = \"{}\"\n\
         node_id = \"west\"\nreceipt_key = \"{}\"\n",
        p(&dir.join("west.pem")),
        p(&dir.join("west.key")),
        p(&pki.join(&manifest.root_ca)),
        manifest.trust_domain,
        p(&reg),
        p(&dir.join("west-state")),
        p(&receipt),
    );
    std::fs::write(dir.join("west.toml"), west_config).unwrap();
    let node_1 = spawn(
        dir,
        &[
            "serve",
            "--pki",
            p(&pki),
            "--registry",
            p(&reg),
            "--state",
            p(&dir.join("state-1")),
            "--listen",
            &gateway_1.to_string(),
            "--no-admin",
        ],
        "gateway-1.log",
    );
    let west_node = spawn(
        dir,
        &[
            "serve",
            "--config",
            p(&dir.join("west.toml")),
            "--listen",
            &west.to_string(),
            "--no-admin",
        ],
        "west.log",
    );

    let checkpoint = manifest.client("checkpoint", None).expect("dev checkpoint");
    let tls = ClientTls::trusting(std::fs::read_to_string(pki.join(&manifest.root_ca)).unwrap())
        .with_identity(
            std::fs::read_to_string(pki.join(&checkpoint.cert)).unwrap(),
            std::fs::read_to_string(pki.join(&checkpoint.key)).unwrap(),
        );
    let at_gateway_1 = channel(gateway_1, &tls, &dir.join("gateway-1.log")).await;
    let at_west = channel(west, &tls, &dir.join("west.log")).await;
    TwoNodes {
        pki,
        henan_data,
        checkpoint: checkpoint.clone(),
        at_gateway_1,
        at_west,
        _processes: vec![henan_service, node_1, west_node],
        tmp,
    }
}

/// A Henan resident's ID number, serial `n`.
fn henan_id(n: u32) -> String {
    huren_adapters::ResidentId::from_first17(&format!("41010519900101{n:03}"))
        .expect("17 digits")
        .expose()
        .to_string()
}

#[tokio::test]
async fn a_read_forwarded_between_two_serve_processes_gets_the_local_verdict() {
    let nodes = two_nodes().await;
    let (at_west, at_gateway_1) = (&nodes.at_west, &nodes.at_gateway_1);
    let payload = nodes.issue_henan(&henan_id(1), "王五");
    let payload = payload.as_str();
    // The running service picks the new record up from its data directory shortly.
    let issued = Instant::now();
    let local = loop {
        let v = verify(at_west, payload).await;
        if v.verdict() != Verdict::Reject || issued.elapsed() > Duration::from_secs(20) {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let forwarded = verify(at_gateway_1, payload).await;
    assert_eq!(local.verdict(), Verdict::Pass, "{local:?}");
    assert_eq!(forwarded.verdict, local.verdict, "{forwarded:?}");
    assert_eq!(forwarded.source(), StatusSource::Forwarded, "{forwarded:?}");
    assert_eq!(forwarded.forwarded_by, "west");

    // West's audit log names the original caller and the node that forwarded for it.
    let audited = nodes.west_audit();
    assert!(
        audited
            .iter()
            .any(|r| r.entry.caller == nodes.checkpoint.spiffe_id
                && r.entry
                    .purpose
                    .starts_with("forwarded by node gateway-1 for caller")),
        "{audited:?}"
    );
}

#[tokio::test]
async fn a_lookup_by_id_card_forwarded_between_two_serve_processes_gets_the_local_verdict() {
    let nodes = two_nodes().await;
    let id = henan_id(2);
    nodes.issue_henan(&id, "赵奶奶");
    let lookup = |channel: Channel| {
        let id = id.clone();
        async move {
            let mut request = tonic::Request::new(LookupPersonRequest {
                resident_id_number: id,
                name: "赵奶奶".into(),
                verifying_region: String::new(),
                purpose: "station-entry: no phone".into(),
            });
            request.set_timeout(Duration::from_secs(5));
            LookupServiceClient::new(channel)
                .lookup_person(request)
                .await
                .expect("looked up")
                .into_inner()
                .verification
                .expect("a verification")
        }
    };
    // The running service picks the new record up from its data directory shortly.
    let issued = Instant::now();
    let local = loop {
        let v = lookup(nodes.at_west.clone()).await;
        if v.verdict() == Verdict::Pass || issued.elapsed() > Duration::from_secs(20) {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let forwarded = lookup(nodes.at_gateway_1.clone()).await;
    assert_eq!(local.verdict(), Verdict::Pass, "{local:?}");
    assert_eq!(forwarded.verdict, local.verdict, "{forwarded:?}");
    assert_eq!(forwarded.source(), StatusSource::Forwarded, "{forwarded:?}");
    assert_eq!(forwarded.forwarded_by, "west");
    let bytes = prost::Message::encode_to_vec(&forwarded);
    assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()));
    // West audited the checkpoint's lookup with its purpose, under a pseudonym.
    let audited = nodes.west_audit();
    assert!(
        audited
            .iter()
            .any(|r| r.entry.caller == nodes.checkpoint.spiffe_id
                && r.entry.purpose.ends_with("station-entry: no phone")
                && r.entry.subject_ref != id),
        "{audited:?}"
    );
}
