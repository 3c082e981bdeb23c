//! The matrix of the scenario: every state a scripted server vanishes at ([`Script`]), the
//! ways it vanishes ([`Vanish`]), the cases they make ([`CASES`]), and the bytes each script
//! writes before it vanishes (and how many of them are body bytes). What the servers do with
//! these bytes is [`super::servers`]; what the clients must make of them is [`super::judge`](mod@super::judge).

use std::sync::OnceLock;

/// The request body of state 13: more than the loopback socket buffers hold, so the client
/// is still writing when the server resets.
const UPLOAD_LEN: usize = 16 << 20;
/// The body of the controls (state 14): more than the client's receive buffer.
const WHOLE_LEN: usize = 3000;
/// A response head announcing 100 body bytes.
const CL_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
/// A chunked response head.
const CHUNKED_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

/// What a scripted server does with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Script {
    AcceptClose,
    ReadClose,
    MidStatus,
    MidHeaders,
    HeadOnly,
    HalfBody,
    InChunkData,
    InChunkSize,
    BetweenChunks,
    InTrailer,
    Stall,
    StallInBody,
    IdleClose,
    IdleClosePost,
    ReusedMidStatus,
    UploadCut,
    CloseDelimited,
    WholeThenClose,
}

/// How the server vanishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Vanish {
    /// `shutdown(Write)`: the client reads end of stream.
    Fin,
    /// `SO_LINGER` 0, then close: the client's next read or write fails with a reset.
    Rst,
    /// It does not: the socket stays open until the client goes.
    Stay,
}

impl Vanish {
    pub(super) const fn name(self) -> &'static str {
        match self {
            Vanish::Fin => "FIN",
            Vanish::Rst => "RST",
            Vanish::Stay => "-",
        }
    }
}

/// One line of the matrix.
pub(super) struct Case {
    pub(super) label: &'static str,
    pub(super) what: &'static str,
    pub(super) script: Script,
    pub(super) vanish: Vanish,
}

const fn case(label: &'static str, what: &'static str, script: Script, vanish: Vanish) -> Case {
    Case { label, what, script, vanish }
}

/// The matrix: every state, with each way of vanishing it is run with.
pub(super) const CASES: &[Case] = &[
    case("1", "accepted, closed before reading", Script::AcceptClose, Vanish::Fin),
    case("1", "accepted, closed before reading", Script::AcceptClose, Vanish::Rst),
    case("2", "read the request, no answer", Script::ReadClose, Vanish::Fin),
    case("2", "read the request, no answer", Script::ReadClose, Vanish::Rst),
    case("3", "mid status line", Script::MidStatus, Vanish::Fin),
    case("3", "mid status line", Script::MidStatus, Vanish::Rst),
    case("4", "mid header section", Script::MidHeaders, Vanish::Fin),
    case("4", "mid header section", Script::MidHeaders, Vanish::Rst),
    case("5", "head (Content-Length: 100), no body", Script::HeadOnly, Vanish::Fin),
    case("5", "head (Content-Length: 100), no body", Script::HeadOnly, Vanish::Rst),
    case("6", "half of a Content-Length body", Script::HalfBody, Vanish::Fin),
    case("6", "half of a Content-Length body", Script::HalfBody, Vanish::Rst),
    case("7", "chunked: inside chunk data", Script::InChunkData, Vanish::Fin),
    case("7", "chunked: inside chunk data", Script::InChunkData, Vanish::Rst),
    case("8", "chunked: inside a chunk-size line", Script::InChunkSize, Vanish::Fin),
    case("8", "chunked: inside a chunk-size line", Script::InChunkSize, Vanish::Rst),
    case("9", "chunked: after a chunk, no last chunk", Script::BetweenChunks, Vanish::Fin),
    case("9", "chunked: after a chunk, no last chunk", Script::BetweenChunks, Vanish::Rst),
    case("10", "chunked: inside the trailer section", Script::InTrailer, Vanish::Fin),
    case("10", "chunked: inside the trailer section", Script::InTrailer, Vanish::Rst),
    case("11", "never answers (timeout 1 s)", Script::Stall, Vanish::Stay),
    case("11b", "stalls mid-body (timeout 1 s)", Script::StallInBody, Vanish::Stay),
    case("12", "closes the idle kept-alive conn; GET", Script::IdleClose, Vanish::Fin),
    case("12", "closes the idle kept-alive conn; GET", Script::IdleClose, Vanish::Rst),
    case("12p", "closes the idle kept-alive conn; POST", Script::IdleClosePost, Vanish::Fin),
    case("12p", "closes the idle kept-alive conn; POST", Script::IdleClosePost, Vanish::Rst),
    case("12m", "kept-alive: 2nd answer cut mid status", Script::ReusedMidStatus, Vanish::Fin),
    case("12m", "kept-alive: 2nd answer cut mid status", Script::ReusedMidStatus, Vanish::Rst),
    case("13", "closes during a 16 MiB request body", Script::UploadCut, Vanish::Fin),
    case("13", "closes during a 16 MiB request body", Script::UploadCut, Vanish::Rst),
    case("14a", "control: whole close-delimited body", Script::CloseDelimited, Vanish::Fin),
    case("14a", "control: whole close-delimited body", Script::CloseDelimited, Vanish::Rst),
    case("14b", "control: whole Content-Length response", Script::WholeThenClose, Vanish::Fin),
    case("14b", "control: whole Content-Length response", Script::WholeThenClose, Vanish::Rst),
];

/// The body of the controls.
pub(super) fn whole_body() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        b"the quick brown fox jumps over the lazy dog\n".iter().copied().cycle().take(WHOLE_LEN).collect()
    })
}

/// The request body of state 13.
pub(super) fn upload() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| vec![b'u'; UPLOAD_LEN])
}

/// What the server writes on a connection (`conn` numbers them): one answer after each
/// request head it reads, then it vanishes.
pub(super) fn answers(script: Script, conn: u64) -> Vec<Vec<u8>> {
    let idle = || format!("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nconn {:05}", conn % 100_000).into_bytes();
    match script {
        Script::AcceptClose => Vec::new(),
        Script::IdleClose | Script::IdleClosePost => vec![idle()],
        Script::ReusedMidStatus => vec![idle(), b"HTTP/1.1 20".to_vec()],
        other => vec![last_answer(other)],
    }
}

/// What the server writes after reading the request head, before it vanishes.
fn last_answer(script: Script) -> Vec<u8> {
    match script {
        Script::AcceptClose
        | Script::ReadClose
        | Script::Stall
        | Script::UploadCut
        | Script::IdleClose
        | Script::IdleClosePost
        | Script::ReusedMidStatus => Vec::new(),
        Script::MidStatus => b"HTTP/1.1 20".to_vec(),
        Script::MidHeaders => b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-A: b".to_vec(),
        Script::HeadOnly => CL_HEAD.to_vec(),
        Script::HalfBody | Script::StallInBody => [CL_HEAD, &[b'h'; 50]].concat(),
        Script::InChunkData => [CHUNKED_HEAD, b"a\r\nhello"].concat(),
        Script::InChunkSize => [CHUNKED_HEAD, b"5\r\nhello\r\n1"].concat(),
        Script::BetweenChunks => [CHUNKED_HEAD, b"5\r\nhello\r\n"].concat(),
        Script::InTrailer => [CHUNKED_HEAD, b"5\r\nhello\r\n0\r\nX-Trailer: yes\r\n"].concat(),
        Script::CloseDelimited => [b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", whole_body()].concat(),
        Script::WholeThenClose => {
            [format!("HTTP/1.1 200 OK\r\nContent-Length: {WHOLE_LEN}\r\n\r\n").as_bytes(), whole_body()].concat()
        }
    }
}

/// Decoded body bytes the server sent.
pub(super) fn body_sent(script: Script) -> u64 {
    match script {
        Script::HalfBody | Script::StallInBody => 50,
        Script::InChunkData | Script::InChunkSize | Script::BetweenChunks | Script::InTrailer => 5,
        Script::CloseDelimited | Script::WholeThenClose => WHOLE_LEN as u64,
        _ => 0,
    }
}
