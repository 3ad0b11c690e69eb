//! A dev federation (`huren federation init`) started as processes for a test, and one
//! checkpoint scan: shared by the federation tests, each including this file with `#[path]`.
// Each test uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use huren_cli::federation::Federation;
use huren_cli::federation::init::{InitRequest, init};
use huren_cli::federation::layout::Ports;
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    GetNationalSummaryRequest, GetNationalSummaryResponse, Verification, VerifyCodeRequest,
};
use tonic::transport::Channel;

/// A fresh federation on free ports under `tmp`, every process ready; its directory.
pub async fn start(tmp: &tempfile::TempDir) -> (Federation, PathBuf) {
    start_edited(tmp, |_| ()).await
}

/// The Yuhang checkpoint's channel to `zhejiang`, where the federation tests scan codes.
pub async fn checkpoint_at_zhejiang(federation: &Federation) -> Channel {
    federation
        .channel("zhejiang", "checkpoint", None)
        .await
        .expect("a checkpoint channel to zhejiang")
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

/// Every file under `dir` that holds `needle`.
pub fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// The national summary merged from every node, asked of national with the national
/// certificate; every node's share is in it.
pub async fn national_summary(federation: &Federation) -> GetNationalSummaryResponse {
    let national = federation
        .channel("national", "national", None)
        .await
        .unwrap();
    let summary = CoordinationServiceClient::new(national)
        .get_national_summary(GetNationalSummaryRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!summary.partial, "{summary:?}");
    summary
}
