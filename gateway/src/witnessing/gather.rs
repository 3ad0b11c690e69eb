//! The publisher asks every witness the new root lists — and, when the root changes, every
//! witness the replaced root lists — itself directly, the others over their pinned peer
//! connections, to cosign a new checkpoint note, checks each answer against the witness key a
//! root lists, and adds it to the note.

use std::sync::Arc;
use std::time::{Duration, Instant};

use huren_proto::v1::AddCheckpointRequest;
use huren_proto::v1::witness_service_client::WitnessServiceClient;
use huren_registry::Registry;
use huren_registry::note::{NoteSignature, SignedNote};
use huren_registry::witness::{WitnessError, witnesses_to_ask};

use super::LocalWitness;
use crate::federation::peers::{Peers, Routes};
use crate::services::witness::WITNESS_SIZE;

/// Who the publisher is and what it reaches witnesses with.
#[derive(Debug, Clone)]
pub struct Gatherer {
    /// This node's id; its own cosignature is asked of `local`, not over the network.
    pub node_id: String,
    pub local: Option<Arc<LocalWitness>>,
    pub peers: Arc<Peers>,
    /// How long each witness may take.
    pub timeout: Duration,
}

/// One witness's answer: its cosignature, or why not.
type Answer = (String, Result<NoteSignature, String>);

impl Gatherer {
    /// The candidate's checkpoint note with the cosignature of every listed witness that gave
    /// one (`held` is the registry the publisher serves: peers are reached as it lists them,
    /// and witnesses check the log's signature with its log keys). Witnesses that refused are
    /// logged; whether enough cosigned is for the caller's quorum check.
    pub async fn gather(
        &self,
        held: &Arc<Registry>,
        candidate: &Arc<Registry>,
    ) -> Result<SignedNote, WitnessError> {
        let text = candidate.state().log.note.clone().unwrap_or_default();
        let mut note = SignedNote::parse(&text)?;
        // A new root is acted on only with k of the held root's witnesses too: ask both roots'.
        let witnesses = witnesses_to_ask(candidate.root(), Some(held.root()))?;
        let held_routes = self.peers.routes(held);
        // A witness only the new root lists is reached where the new root lists it.
        let new_routes = witnesses
            .iter()
            .any(|(id, _)| !held.root().nodes.contains_key(id))
            .then(|| self.peers.routes(candidate));
        let text = text.as_str();
        let asks = witnesses.iter().map(|(id, _)| {
            let routes = match &new_routes {
                Some(new) if !held.root().nodes.contains_key(id) => new,
                _ => &held_routes,
            };
            async move {
                let answer = if *id == self.node_id {
                    self.ask_self(held, candidate, text).await
                } else {
                    self.ask_peer(held, candidate, routes, id, text).await
                };
                (id.clone(), answer)
            }
        });
        let answers: Vec<Answer> = futures::future::join_all(asks).await;
        for (id, answer) in answers {
            let verifiers = witnesses
                .iter()
                .find(|(w, _)| *w == id)
                .map_or(&[][..], |(_, v)| v.as_slice());
            match answer.and_then(|sig| {
                // A witness's broken line would make the whole note refused: check it first,
                // under the key either root lists for it.
                let alone = SignedNote {
                    text: note.text.clone(),
                    signatures: vec![sig.clone()],
                };
                alone.verify(verifiers).map_err(|e| e.to_string())?;
                Ok(sig)
            }) {
                Ok(sig) => note.add(sig),
                Err(why) => tracing::warn!(
                    witness = %id,
                    version = candidate.version(),
                    %why,
                    "a witness did not cosign the new registry checkpoint"
                ),
            }
        }
        Ok(note)
    }

    async fn ask_self(
        &self,
        held: &Arc<Registry>,
        candidate: &Arc<Registry>,
        text: &str,
    ) -> Result<NoteSignature, String> {
        let local = self.local.clone().ok_or("this node has no witness key")?;
        let (held, candidate, text) = (held.clone(), candidate.clone(), text.to_string());
        tokio::task::spawn_blocking(move || {
            let old = local.last_size();
            let proof = proof_from(&candidate, old)?;
            local
                .add_checkpoint(held.root(), &text, old, &proof)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Asks witness `id` with the publisher's own last size as the guess of the witness's, and
    /// once more with the size the witness says it holds (it missed versions while down).
    async fn ask_peer(
        &self,
        held: &Arc<Registry>,
        candidate: &Arc<Registry>,
        routes: &Routes,
        id: &str,
        text: &str,
    ) -> Result<NoteSignature, String> {
        let deadline = Instant::now() + self.timeout;
        let mut old = held.checkpoint().tree_size;
        for _ in 0..2 {
            let request = AddCheckpointRequest {
                old_size: old,
                consistency_proof: proof_from(candidate, old)?
                    .into_iter()
                    .map(|h| h.to_vec())
                    .collect(),
                checkpoint_note: text.to_string(),
            };
            let answer = self
                .peers
                .call(routes, id, deadline, |channel, left| {
                    let mut request = tonic::Request::new(request.clone());
                    request.set_timeout(left);
                    async move {
                        match WitnessServiceClient::new(channel)
                            .add_checkpoint(request)
                            .await
                        {
                            Ok(r) => Ok(Ok(r.into_inner())),
                            // A wrong guess of the size is an answer, not a failed call.
                            Err(s) if s.code() == tonic::Code::Aborted => Ok(Err(s)),
                            Err(s) => Err(s),
                        }
                    }
                })
                .await
                .map_err(|e| e.to_string())?;
            match answer {
                Ok(response) => return parse_line(&note_text_of(text)?, &response.cosignature),
                Err(status) => {
                    old = status
                        .metadata()
                        .get(WITNESS_SIZE)
                        .and_then(|v| v.to_str().ok()?.parse().ok())
                        .ok_or_else(|| status.message().to_string())?;
                }
            }
        }
        Err(format!("witness {id} keeps naming another size"))
    }
}

/// The consistency proof from `old` leaves to the candidate's log (none from an empty log or
/// for the same size).
fn proof_from(candidate: &Registry, old: u64) -> Result<Vec<huren_registry::log::Hash>, String> {
    let size = candidate.checkpoint().tree_size;
    if old == 0 || old >= size {
        return Ok(Vec::new());
    }
    candidate
        .prove_consistency(old, size)
        .map_err(|e| e.to_string())
}

fn note_text_of(text: &str) -> Result<String, String> {
    SignedNote::parse(text)
        .map(|n| n.text)
        .map_err(|e| e.to_string())
}

/// A cosignature line as a signature: parsed as the one signature of a note over `note_text`.
fn parse_line(note_text: &str, line: &str) -> Result<NoteSignature, String> {
    let mut parsed = SignedNote::parse(&format!("{note_text}\n{line}"))
        .map_err(|e| format!("not a cosignature line: {e}"))?;
    match (parsed.signatures.pop(), parsed.signatures.is_empty()) {
        (Some(sig), true) => Ok(sig),
        _ => Err("not exactly one cosignature line".into()),
    }
}
