//! The compile worker alone: reads a compile request on stdin, answers on
//! stdout (see `stratbox_runtime::compile_worker_main`). Used by the
//! runtime's integration tests to compile in a subprocess.

fn main() -> std::process::ExitCode {
    stratbox_runtime::compile_worker_main()
}
