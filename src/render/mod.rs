//! Turning plans, facts and diagnostics into text for humans (Terraform-like) or JSON.
//! Text from nodes and facts goes through `escape` in every human render.
pub mod escape;
pub mod facts;
pub mod plan;
