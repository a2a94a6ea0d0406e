//! Developer tool for "what-if" chains and fixtures: plan DESIRED against FACTS,
//! apply the plan's runnable steps with the pure simulator, print the resulting facts.
//!
//! cargo run --example simulate_facts -- desired.json facts.json [--allow-destroy] [--allow-wipe] [--cluster-id ID]
//!
//! `--cluster-id` is the fresh id the CLI would make (without one, a blank cluster gets no
//! identity and the plan builds nothing).

use std::process::ExitCode;

use brickyard::config::Desired;
use brickyard::gather::Observed;
use brickyard::plan::{PlanOptions, plan, simulate};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: simulate_facts DESIRED.json FACTS.json [--allow-destroy] [--allow-wipe]");
        return ExitCode::from(64);
    }
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let run = || -> Result<String, String> {
        let desired: Desired =
            serde_json::from_str(&read(&args[0])?).map_err(|e| format!("{}: {e}", args[0]))?;
        let observed: Observed =
            serde_json::from_str(&read(&args[1])?).map_err(|e| format!("{}: {e}", args[1]))?;
        let opts = PlanOptions {
            allow_destroy: args.iter().any(|a| a == "--allow-destroy"),
            allow_wipe: args.iter().any(|a| a == "--allow-wipe"),
            new_cluster_id: args
                .iter()
                .position(|a| a == "--cluster-id")
                .and_then(|i| args.get(i + 1))
                .cloned(),
        };
        let p = plan(&desired, &observed, &opts);
        let after = simulate::apply(&p, &observed);
        serde_json::to_string_pretty(&after).map_err(|e| e.to_string())
    };
    match run() {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
