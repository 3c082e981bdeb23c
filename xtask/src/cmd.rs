//! Shared helpers: the error type every subcommand returns, the workspace root, and [`Cmd`],
//! which runs an external command in the foreground and fails loudly.
//!
//! A command is echoed before it runs (`$ RUSTDOCFLAGS="-D warnings" cargo doc ...`, with the
//! directory when it is not the workspace root), its output goes straight to the terminal, and
//! a non-zero exit becomes an [`Error`] that quotes the command line and its exit status.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What every subcommand returns.
pub(crate) type Result<T = (), E = Error> = std::result::Result<T, E>;

/// A failure to report to the user: one line, printed as `error: ...` by `main`.
#[derive(Debug)]
pub(crate) struct Error(String);

impl Error {
    /// An error with this message.
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }

    /// The same error with `context` in front: `context: message`.
    pub(crate) fn context(self, context: impl fmt::Display) -> Error {
        Error(format!("{context}: {}", self.0))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub(crate) fn root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf()
}

/// `path` relative to the workspace root when it is inside it, for shorter messages.
pub(crate) fn display_path(path: &Path) -> String {
    let root = root();
    path.strip_prefix(&root).unwrap_or(path).display().to_string()
}

/// `1234567` → `1,234,567`: the figures of xtask's documents and charts.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a duration as seconds with one decimal: `12.3s`, or `2m05.1s` past a minute.
pub(crate) fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        let minutes = whole / 60;
        let rest = secs - (minutes * 60) as f64;
        format!("{minutes}m{rest:04.1}s")
    }
}

/// An external command, echoed before it runs. Runs in the workspace root unless
/// [`Cmd::dir`] says otherwise.
pub(crate) struct Cmd {
    command: Command,
    /// The command line as shown to the user: env assignments, program, arguments.
    shown: String,
    /// The working directory when it is not the workspace root, for the echo.
    dir_shown: Option<String>,
}

impl Cmd {
    /// A command running `program`.
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Cmd {
        let program = program.as_ref();
        let mut command = Command::new(program);
        command.current_dir(root());
        Cmd { command, shown: quote(program), dir_shown: None }
    }

    /// `cargo`: the cargo that runs xtask (`$CARGO`), so nested builds use the same
    /// toolchain, or `cargo` from `PATH` when xtask was started some other way.
    pub(crate) fn cargo() -> Cmd {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Cmd::new(program);
        cmd.shown = String::from("cargo");
        cmd
    }

    /// Adds one argument.
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        let arg = arg.as_ref();
        self.shown.push(' ');
        self.shown.push_str(&quote(arg));
        self.command.arg(arg);
        self
    }

    /// Adds several arguments.
    pub(crate) fn args<I>(self, args: I) -> Cmd
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        args.into_iter().fold(self, Cmd::arg)
    }

    /// Sets an environment variable for the command (shown in the echo).
    pub(crate) fn env(mut self, key: &str, value: &str) -> Cmd {
        self.shown = format!("{key}={} {}", quote(OsStr::new(value)), self.shown);
        self.command.env(key, value);
        self
    }

    /// Runs the command in `dir` instead of the workspace root.
    pub(crate) fn dir(mut self, dir: &Path) -> Cmd {
        self.dir_shown = Some(display_path(dir));
        self.command.current_dir(dir);
        self
    }

    /// The command line as echoed, for messages.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    fn echo(&self) {
        match &self.dir_shown {
            Some(dir) => eprintln!("$ (cd {dir} && {})", self.shown),
            None => eprintln!("$ {}", self.shown),
        }
    }

    /// Runs the command with the terminal's stdin, stdout and stderr; an error unless it
    /// exits with status 0. Prints how long it took.
    pub(crate) fn run(mut self) -> Result {
        self.echo();
        let started = Instant::now();
        let status = self.command.status().map_err(|e| Error::new(format!("could not start `{}`: {e}", self.shown)))?;
        let took = format_duration(started.elapsed());
        if status.success() {
            eprintln!("    ({took})");
            Ok(())
        } else {
            Err(Error::new(format!("`{}` failed with {status} after {took}", self.shown)))
        }
    }

    /// Runs the command and returns its stdout as text; stderr goes to the terminal.
    pub(crate) fn read_stdout(mut self) -> Result<String> {
        self.echo();
        let output = self
            .command
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| Error::new(format!("could not start `{}`: {e}", self.shown)))?;
        if !output.status.success() {
            return Err(Error::new(format!("`{}` failed with {}", self.shown, output.status)));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| Error::new(format!("`{}` printed something that is not UTF-8", self.shown)))
    }

    /// Runs the command silently (no echo, no output) and says whether it succeeded: for
    /// probing whether a tool is installed.
    pub(crate) fn probe(mut self) -> bool {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// Shell-style quoting for the echo: plain words as they are, anything else in double quotes.
fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=./:+,@%".contains(&b));
    if plain { s.into_owned() } else { format!("{s:?}") }
}
