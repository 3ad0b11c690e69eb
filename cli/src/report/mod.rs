//! What the CLI prints: aligned tables, the API's enums in plain words, gRPC errors with their
//! reason, and answers as JSON for machines. Shared by the client commands, the demo and benches.

pub mod answers;
pub mod appeals;
pub mod error;
pub mod json;
pub mod lang;
pub mod names;
pub mod registry_json;
pub mod status;
pub mod table;

pub use status::describe;
pub use table::Table;
