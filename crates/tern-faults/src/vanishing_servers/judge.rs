//! The verdict on a run: what the client must give for each case ([`Want`], [`Expect`], the
//! last column of the module's state table), and the checks of a run against it. A failure
//! must be the engine's error of the expected kind and stage, blame the right party, carry the
//! body bytes that arrived, be the one `Error` event and leave the client in `INIT`; a success
//! must be whole; and the good request after it must get its answer.

use tern_proto::client::{ClientError, Stage, State};

use super::clients::{Failure, Flow, Reply};
use super::runner::Run;
use super::script::{Case, Script, Vanish, body_sent, whole_body};

/// An error the client may give.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// `ConnectionClosed` at this stage.
    Closed(Stage),
    /// `Transport` at this stage (the reset).
    Reset(Stage),
    /// `IncompleteBody`, with every body byte the server sent.
    Incomplete,
    /// `Timeout` at this stage.
    Timeout(Stage),
    /// `Connect`: the reset came before the adapter's connect had reported success.
    Connect,
}

impl Want {
    fn matches(self, error: &ClientError, sent: u64) -> bool {
        match (self, error) {
            (Want::Closed(s), ClientError::ConnectionClosed(t))
            | (Want::Reset(s), ClientError::Transport(t))
            | (Want::Timeout(s), ClientError::Timeout(t)) => s == *t,
            (Want::Incomplete, ClientError::IncompleteBody { received }) => *received == sent,
            (Want::Connect, ClientError::Connect) => true,
            _ => false,
        }
    }
}

/// What the client must do with a case.
enum Expect {
    /// Fail with one of these.
    Fail(&'static [Want]),
    /// Succeed with the whole control body.
    Whole,
    /// Succeed, on a second connection: the engine retried the request.
    Retried,
}

/// What the client must do with a case, in a flow.
fn expectation(script: Script, vanish: Vanish, flow: Flow) -> Expect {
    use Stage::{ReceiveBody, ReceiveHead, Send};
    match (script, vanish) {
        (Script::Stall, _) => Expect::Fail(&[Want::Timeout(ReceiveHead)]),
        (Script::StallInBody, _) => Expect::Fail(&[Want::Timeout(ReceiveBody)]),
        (Script::WholeThenClose, _) | (Script::CloseDelimited, Vanish::Fin) => Expect::Whole,
        (Script::IdleClose, _) if flow == Flow::Perform => Expect::Retried,
        (Script::AcceptClose, Vanish::Rst) => {
            Expect::Fail(&[Want::Reset(Send), Want::Reset(ReceiveHead), Want::Connect])
        }
        (Script::IdleClose | Script::IdleClosePost | Script::UploadCut, Vanish::Rst) => {
            Expect::Fail(&[Want::Reset(Send)])
        }
        (Script::ReusedMidStatus, Vanish::Rst) => Expect::Fail(&[Want::Reset(ReceiveHead)]),
        (
            Script::AcceptClose
            | Script::ReadClose
            | Script::MidStatus
            | Script::MidHeaders
            | Script::IdleClose
            | Script::IdleClosePost
            | Script::ReusedMidStatus
            | Script::UploadCut,
            Vanish::Fin | Vanish::Stay,
        ) => Expect::Fail(&[Want::Closed(ReceiveHead)]),
        (Script::ReadClose | Script::MidStatus | Script::MidHeaders, Vanish::Rst) => {
            Expect::Fail(&[Want::Reset(ReceiveHead)])
        }
        (
            Script::HeadOnly | Script::HalfBody | Script::InChunkData | Script::InChunkSize | Script::BetweenChunks,
            Vanish::Fin | Vanish::Stay,
        )
        | (Script::InTrailer, Vanish::Fin | Vanish::Stay) => Expect::Fail(&[Want::Incomplete]),
        (
            Script::HeadOnly
            | Script::HalfBody
            | Script::InChunkData
            | Script::InChunkSize
            | Script::BetweenChunks
            | Script::InTrailer
            | Script::CloseDelimited,
            Vanish::Rst,
        ) => Expect::Fail(&[Want::Reset(ReceiveBody)]),
        (Script::CloseDelimited, Vanish::Stay) => Expect::Whole,
    }
}

/// Who an error blames.
fn blame(e: &ClientError) -> &'static str {
    if e.is_remote() {
        "server"
    } else if e.is_local() {
        "caller"
    } else {
        "network"
    }
}

/// The body a successful request delivered, after checking the success is whole: status 200,
/// `OnFinish` once, no `Error` event, `is_complete_data_received`, and the bytes read the
/// same as the `OnData` bytes.
fn delivered(reply: &Reply) -> Result<&[u8], String> {
    let read = match &reply.result {
        Err(Failure::Client(e)) => return Err(format!("{e:?} ({e})")),
        Err(Failure::Other(e)) => return Err(e.clone()),
        Ok(read) => read,
    };
    let events = &reply.events;
    if reply.status != Some(200) {
        return Err(format!("success with status {:?}", reply.status));
    }
    if events.finished != 1 || !reply.complete {
        return Err(format!(
            "success with {} OnFinish events and is_complete_data_received() = {} ({} body bytes)",
            events.finished,
            reply.complete,
            events.data.len()
        ));
    }
    if !events.errors.is_empty() {
        return Err(format!("success, yet Error events {:?}", events.errors));
    }
    if let Some(read) = read
        && *read != events.data
    {
        return Err(format!("{} bytes read, but {} bytes of OnData", read.len(), events.data.len()));
    }
    Ok(&events.data)
}

/// The fault request's outcome, as the table shows it, or why it is wrong.
fn judge_fault(case: &Case, flow: Flow, run: &Run) -> Result<String, String> {
    let reply = &run.fault;
    let sent = body_sent(case.script);
    match expectation(case.script, case.vanish, flow) {
        Expect::Whole => {
            let body = delivered(reply).map_err(|e| format!("the control failed: {e}"))?;
            if body != whole_body() {
                return Err(format!("success with {} body bytes, {} were sent", body.len(), whole_body().len()));
            }
            Ok(format!("success, {} bytes", body.len()))
        }
        Expect::Retried => {
            let body = delivered(reply).map_err(|e| {
                format!(
                    "the GET on the connection the server had closed failed: {e} (tern documents one retry on a \
                     new connection for an idempotent request of which nothing of the response arrived)"
                )
            })?;
            let first = run.prime.as_ref().map(|p| p.events.data.as_slice()).unwrap_or_default();
            if body.len() != 10 || !body.starts_with(b"conn ") || body == first {
                return Err(format!(
                    "the retried GET answered {:?}, the first one {:?}: not a new connection's answer",
                    String::from_utf8_lossy(body),
                    String::from_utf8_lossy(first)
                ));
            }
            if reply.connects != 1 {
                return Err(format!("the retried GET opened {} connections, not 1", reply.connects));
            }
            Ok("success, retried on a new connection".into())
        }
        Expect::Fail(wants) => {
            let error = match &reply.result {
                Err(Failure::Client(e)) => *e,
                Err(Failure::Other(e)) => return Err(format!("failed with an error that is not the engine's: {e}")),
                Ok(_) => {
                    return Err(format!(
                        "SUCCESS reported (status {:?}, {} body bytes, {} sent by the server) for a response the \
                         server cut short",
                        reply.status,
                        reply.events.data.len(),
                        sent
                    ));
                }
            };
            if !wants.iter().any(|w| w.matches(&error, sent)) {
                return Err(format!(
                    "failed with {error:?} (\"{error}\"), expected one of {wants:?} ({sent} body bytes sent)"
                ));
            }
            let blamed = blame(&error);
            let right_party = match error {
                ClientError::ConnectionClosed(_) | ClientError::IncompleteBody { .. } => blamed == "server",
                _ => blamed != "caller",
            };
            if !right_party {
                return Err(format!("{error:?} blames the {blamed}"));
            }
            let delivered = reply.events.data.len() as u64;
            if delivered > sent {
                return Err(format!("{delivered} body bytes delivered as OnData, the server sent {sent}"));
            }
            if let ClientError::IncompleteBody { received } = error
                && received != delivered
            {
                return Err(format!("{error:?}, but {delivered} bytes were delivered as OnData"));
            }
            if reply.events.errors.as_slice() != [error] {
                return Err(format!("{error:?} returned, but the Error events were {:?}", reply.events.errors));
            }
            if case.script == Script::ReusedMidStatus && reply.connects != 0 {
                return Err(format!(
                    "{error:?} after {} new connections: a request whose response had begun was retried",
                    reply.connects
                ));
            }
            if reply.state != State::Init {
                return Err(format!("after {error:?} the client is in state {:?}, not INIT", reply.state));
            }
            Ok(format!("{error:?} [{blamed}]"))
        }
    }
}

/// The whole run: the first request (state 12), the fault, and the good request after it.
pub(super) fn judge(case: &Case, flow: Flow, nonce: u64, run: &Run) -> Result<String, String> {
    if let Some(prime) = &run.prime {
        let body = delivered(prime).map_err(|e| format!("the first request on the connection failed: {e}"))?;
        if body.len() != 10 || !body.starts_with(b"conn ") {
            return Err(format!("the first request got {:?}", String::from_utf8_lossy(body)));
        }
        if !run.vanished_in_time {
            return Err("the scripted server did not close the idle connection within 2 s".into());
        }
    }
    let outcome = judge_fault(case, flow, run)?;
    let expected = format!("ok {nonce}");
    match delivered(&run.good) {
        Ok(body) if body == expected.as_bytes() => Ok(outcome),
        Ok(body) => {
            Err(format!("after {outcome}, the good request got {:?}, not {expected:?}", String::from_utf8_lossy(body)))
        }
        Err(e) => Err(format!("after {outcome}, the same client failed a good request: {e}")),
    }
}
