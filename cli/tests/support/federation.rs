//! A dev federation (`huren federation init`) started as processes for a test, and one
//! checkpoint scan: shared by the federation tests, each including this file with `#[path]`.
// Each test uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use huren_cli::federation::Federation;
use huren_cli::federation::init::{InitRequest, init};
use huren_cli::federation::layout::Ports;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verification, VerifyCodeRequest};
use tonic::transport::Channel;

/// A fresh federation on free ports under `tmp`, every process ready; its directory.
pub async fn start(tmp: &tempfile::TempDir) -> (Federation, PathBuf) {
    start_edited(tmp, |_| ()).await
}

/// As [`start`], with `edit` changing the written files before any process starts.
pub async fn start_edited(
    tmp: &tempfile::TempDir,
    edit: impl FnOnce(&std::path::Path),
) -> (Federation, PathBuf) {
    huren::tls::install_crypto_provider();
    let dir = tmp.path().join("fed");
    init(&InitRequest {
        out: dir.clone(),
        base_port: Ports::free().unwrap().base,
        force: false,
    })
    .unwrap();
    edit(&dir);
    let federation = Federation::start(&dir, env!("CARGO_BIN_EXE_huren").as_ref())
        .await
        .unwrap();
    (federation, dir)
}

/// One VerifyCode as a checkpoint scans, with a 5 s deadline.
pub async fn verify(channel: &Channel, payload: &str) -> Verification {
    let mut request = tonic::Request::new(VerifyCodeRequest {
        payload: payload.to_string(),
        verifying_region: String::new(),
        purpose: "checkpoint-entry".into(),
    });
    request.set_timeout(Duration::from_secs(5));
    RecognitionServiceClient::new(channel.clone())
        .verify_code(request)
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("a verification")
}
