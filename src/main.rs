//! The `belfry` command: a shell over the library's [`belfry::cli`].

#[tokio::main]
async fn main() -> std::process::ExitCode {
    belfry::cli::run().await
}
