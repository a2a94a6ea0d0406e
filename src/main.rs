use std::process::ExitCode;

fn main() -> ExitCode {
    brickyard::cli::run()
}
