//! Turning plans, facts and diagnostics into text for humans (Terraform-like) or JSON.
pub mod plan;
