//! The page's ID-card form: a person without a phone (无码人员) looked up by the number and name
//! on their card, through the gateway's LookupPerson as this checkpoint; the answer is shown like
//! a scanned code's. The number goes to the gateway and nowhere else, and never comes back.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use huren_proto::v1::LookupPersonRequest;
use huren_proto::v1::lookup_service_client::LookupServiceClient;
use serde_json::json;

use super::{Checkpoint, answer};
use crate::report::status;

/// What the form posts.
#[derive(Debug, serde::Deserialize)]
pub struct Card {
    id_number: String,
    name: String,
}

/// Looks the card's holder up; an empty field is the staff's to fill, not a call.
pub async fn lookup(State(checkpoint): State<Arc<Checkpoint>>, Json(card): Json<Card>) -> Response {
    if card.id_number.trim().is_empty() || card.name.trim().is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "type the ID number and the name from the card"})),
        )
            .into_response();
    }
    let mut client = LookupServiceClient::new(checkpoint.channel.clone());
    let request = checkpoint.caller.request(LookupPersonRequest {
        resident_id_number: card.id_number,
        name: card.name,
        verifying_region: String::new(),
        purpose: format!("{}: no phone, ID card", checkpoint.purpose),
    });
    let answer = match client.lookup_person(request).await {
        Ok(response) => match response.into_inner().verification {
            Some(v) => answer::of_verification(&v),
            None => answer::of_failure("the gateway answered without a verification"),
        },
        Err(s) => answer::of_failure(&status::describe(&s)),
    };
    Json(answer).into_response()
}
