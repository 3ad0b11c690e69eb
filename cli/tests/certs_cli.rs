//! `huren certs init` as an operator meets it: a complete PKI with private keys, no silent
//! overwrite, and a manifest that names everything.

use huren_cli::cli::certs::{Command, InitArgs, ShowArgs, run};

fn init_args(out: &std::path::Path, force: bool) -> Command {
    Command::Init(InitArgs {
        out: out.to_path_buf(),
        force,
        trust_domain: "huren.dev".into(),
    })
}

#[tokio::test]
async fn init_writes_a_pki_refuses_to_overwrite_and_keeps_keys_private() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    run(init_args(&out, false)).await.unwrap();

    let manifest = huren_certs::Manifest::load(&out).unwrap();
    assert_eq!(manifest.trust_domain, "huren.dev");
    assert_eq!(manifest.regions.len(), 7);
    assert_eq!(manifest.clients.len(), 6);
    let gateway_key_before = std::fs::read(out.join(&manifest.gateway.key)).unwrap();

    let again = run(init_args(&out, false)).await.unwrap_err();
    assert!(again.to_string().contains("--force"), "{again}");
    assert_eq!(
        std::fs::read(out.join(&manifest.gateway.key)).unwrap(),
        gateway_key_before,
        "a refused init must not touch the existing keys"
    );

    run(init_args(&out, true)).await.unwrap();
    assert_ne!(
        std::fs::read(out.join(&manifest.gateway.key)).unwrap(),
        gateway_key_before,
        "--force makes new keys"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let keys = [manifest.root_key.clone(), manifest.gateway.key.clone()]
            .into_iter()
            .chain(manifest.clients.iter().map(|c| c.key.clone()));
        for key in keys {
            let mode = std::fs::metadata(out.join(&key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{} is mode {:o}", key.display(), mode);
        }
    }

    run(Command::Show(ShowArgs {
        pki: out,
        json: false,
    }))
    .await
    .unwrap();
}
