//! Routing through the connection engine: handlers per method, 404/405/501 answered by the
//! engine or by error handlers that keep or close the session, wildcard templates, HEAD served
//! by GET routes, and routes changed between requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod server_support;

use server_support::*;
use tern_proto::Method;
use tern_proto::server::uri::UriMatch;
use tern_proto::server::{
    Dispatch, ErrorHandlers, ErrorVerdict, HandlerOutcome, HttpdErrCode, MethodFilter, Response, Route, RouteSlot,
    Router,
};

type Handler = fn(&mut Ctx<'_>) -> HandlerOutcome;
type ErrHandler = fn(&mut Ctx<'_>, HttpdErrCode) -> ErrorVerdict;

fn hello(ctx: &mut Ctx<'_>) -> HandlerOutcome {
    ctx.send(&Response::default(), b"Hello World!").unwrap();
    HandlerOutcome::Ok
}

fn named(ctx: &mut Ctx<'_>) -> HandlerOutcome {
    let text = format!("{} {}", ctx.conn.request().unwrap().method().as_str(), ctx.path());
    ctx.send(&Response::default(), text.as_bytes()).unwrap();
    HandlerOutcome::Ok
}

/// Serves `input` through `router` and `errors` the way an adapter would.
fn serve_routed(
    input: &[u8],
    router: &mut Router<&'static str, Handler, Vec<RouteSlot<&'static str, Handler>>>,
    errors: &ErrorHandlers<ErrHandler>,
    mut between: impl FnMut(usize, &mut Router<&'static str, Handler, Vec<RouteSlot<&'static str, Handler>>>),
) -> Served {
    let mut conn = connection(config());
    let mut wire = Wire::new(input);
    let mut requests = 0;
    let mut seen = Vec::new();
    loop {
        let code = match drive(&mut conn, &mut wire).unwrap() {
            Got::Request => {
                between(requests, router);
                requests += 1;
                match conn.route(router) {
                    Dispatch::Handler(route) => {
                        let handler = route.handler;
                        let outcome = handler(&mut Ctx { conn: &mut conn, wire: &mut wire });
                        conn.finish(outcome).unwrap();
                        continue;
                    }
                    Dispatch::Refused(code) => code,
                    other => panic!("no WebSocket routes here: {other:?}"),
                }
            }
            Got::Error(code) => code,
            Got::Closed => break,
            other => panic!("{other:?}"),
        };
        seen.push(code);
        match errors.get(code) {
            Some(handler) => {
                let verdict = handler(&mut Ctx { conn: &mut conn, wire: &mut wire }, code);
                let outcome = if verdict.closes() { HandlerOutcome::Fail } else { HandlerOutcome::Ok };
                conn.finish(outcome).unwrap();
            }
            None => conn.reject(code).unwrap(),
        }
    }
    Served {
        output: wire.output_str(),
        raw: wire.output.clone(),
        errors: seen,
        requests,
        closed: wire.closed,
        now: wire.now,
    }
}

fn router(matcher: UriMatch) -> Router<&'static str, Handler, Vec<RouteSlot<&'static str, Handler>>> {
    Router::new(vec![None; 8], matcher)
}

#[test]
fn requests_go_to_the_route_for_their_method_and_path() {
    let mut r = router(UriMatch::Exact);
    r.register(Route::new("/hello", Method::Get, hello as Handler)).unwrap();
    r.register(Route::new("/echo", Method::Post, named as Handler)).unwrap();
    r.register(Route::new("/any", MethodFilter::Any, named as Handler)).unwrap();
    let input =
        b"GET /hello?q=1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n\
                  DELETE /any HTTP/1.1\r\nHost: a\r\n\r\nPATCH /any HTTP/1.1\r\nHost: a\r\n\r\n";
    let served = serve_routed(input, &mut r, &ErrorHandlers::new(), |_, _| {});
    let bodies: Vec<_> = responses(&served.output).iter().map(Resp::body_str).collect();
    assert_eq!(bodies, ["Hello World!", "POST /echo", "DELETE /any", "PATCH /any"]);
}

#[test]
fn no_route_gives_404_a_wrong_method_405_with_allow_and_an_unknown_method_501() {
    let mut r = router(UriMatch::Exact);
    r.register(Route::new("/hello", Method::Get, hello as Handler)).unwrap();
    r.register(Route::new("/hello", Method::Put, hello as Handler)).unwrap();
    r.register(Route::new("/form", Method::Post, hello as Handler)).unwrap();
    // 501 goes to methods no route serves at all (tern's rule; ESP-IDF answers 404 or 405).
    for (input, status) in [
        (&b"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n"[..], 404),
        (b"POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab", 405),
        (b"BREW /hello HTTP/1.1\r\nHost: a\r\n\r\n", 501),
        (b"DELETE /nothing HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    ] {
        let served = serve_routed(input, &mut r, &ErrorHandlers::new(), |_, _| {});
        let resp = &responses(&served.output)[0];
        assert_eq!(resp.status, status, "{}", String::from_utf8_lossy(input));
        assert_eq!(resp.header("connection"), Some("close"), "ESP-IDF's default closes");
        if status == 405 {
            assert_eq!(resp.header("allow"), Some("GET, PUT, HEAD"));
            assert_eq!(resp.body_str(), "Specified method is invalid for this resource");
        }
    }
}

#[test]
fn an_error_handler_can_answer_and_keep_the_session() {
    let mut r = router(UriMatch::Exact);
    r.register(Route::new("/hello", Method::Get, hello as Handler)).unwrap();
    let mut errors = ErrorHandlers::<ErrHandler>::new();
    errors.set(HttpdErrCode::NotFound, |ctx, code| {
        let body = format!("custom {} for {}", code.status().as_u16(), ctx.path());
        ctx.send(&Response::new(code.status()), body.as_bytes()).unwrap();
        ErrorVerdict::KeepSession
    });
    let input = b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    let served = serve_routed(input, &mut r, &errors, |_, _| {});
    let r = responses(&served.output);
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].status, r[0].body_str().as_str(), r[0].header("connection")),
        (404, "custom 404 for /missing", None)
    );
    assert_eq!(r[1].body_str(), "Hello World!");
}

#[test]
fn an_error_handler_that_closes_ends_the_session_and_500_always_closes() {
    let mut r = router(UriMatch::Exact);
    let mut errors = ErrorHandlers::<ErrHandler>::new();
    errors.set(HttpdErrCode::NotFound, |ctx, _| {
        ctx.send(&Response::new(tern_proto::StatusCode::NOT_FOUND), b"bye").unwrap();
        ErrorVerdict::CloseSession
    });
    let input = b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\nGET /missing HTTP/1.1\r\nHost: a\r\n\r\n";
    let served = serve_routed(input, &mut r, &errors, |_, _| {});
    assert_eq!(statuses(&served.output), [404]);
    assert!(served.closed);
    assert_eq!(
        ErrorVerdict::effective(HttpdErrCode::InternalServerError, ErrorVerdict::KeepSession, false),
        ErrorVerdict::CloseSession
    );
}

#[test]
fn an_error_handler_cannot_keep_a_session_whose_stream_is_uncertain() {
    let mut r = router(UriMatch::Exact);
    let mut errors = ErrorHandlers::<ErrHandler>::new();
    errors.set(HttpdErrCode::BadRequest, |ctx, _| {
        ctx.send_err(HttpdErrCode::BadRequest, Some("nope")).unwrap();
        ErrorVerdict::KeepSession
    });
    let input =
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let served = serve_routed(input, &mut r, &errors, |_, _| {});
    let resp = responses(&served.output);
    assert_eq!(resp.len(), 1);
    assert_eq!((resp[0].body_str().as_str(), resp[0].header("connection")), ("nope", Some("close")));
}

#[test]
fn a_refused_request_with_a_body_is_drained_before_the_next_one() {
    let mut r = router(UriMatch::Exact);
    r.register(Route::new("/hello", Method::Get, hello as Handler)).unwrap();
    let mut errors = ErrorHandlers::<ErrHandler>::new();
    errors.set(HttpdErrCode::NotFound, |ctx, code| {
        ctx.send_err(code, None).unwrap();
        ErrorVerdict::KeepSession
    });
    r.register(Route::new("/form", Method::Post, hello as Handler)).unwrap();
    let input = b"POST /missing HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nGET /x 12GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    let served = serve_routed(input, &mut r, &errors, |_, _| {});
    assert_eq!(statuses(&served.output), [404, 200]);
}

#[test]
fn wildcard_templates_dispatch_like_esp_idf() {
    let mut r = router(UriMatch::Wildcard);
    r.register(Route::new("/files/*", Method::Get, named as Handler)).unwrap();
    r.register(Route::new("/opt/?*", Method::Get, named as Handler)).unwrap();
    for (path, status) in
        [("/files/a/b.txt", 200), ("/files/", 200), ("/files", 404), ("/opt", 200), ("/opt/x", 200), ("/optx", 404)]
    {
        let input = format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n");
        let served = serve_routed(input.as_bytes(), &mut r, &ErrorHandlers::new(), |_, _| {});
        assert_eq!(statuses(&served.output), [status], "{path}");
    }
}

#[test]
fn head_is_served_by_a_get_route_without_a_body() {
    let mut r = router(UriMatch::Exact);
    r.register(Route::new("/hello", Method::Get, hello as Handler)).unwrap();
    let input = b"HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    let served = serve_routed(input, &mut r, &ErrorHandlers::new(), |_, _| {});
    let resp = responses_with(&served.raw, &[true, false]);
    assert_eq!(resp.len(), 2);
    assert_eq!((resp[0].status, resp[0].header("content-length")), (200, Some("12")));
    assert_eq!(resp[1].body_str(), "Hello World!");
}

#[test]
fn routes_registered_and_unregistered_between_requests_take_effect() {
    let mut r = router(UriMatch::Exact);
    r.register(Route::new("/hello", Method::Get, hello as Handler)).unwrap();
    let input = b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /new HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut errors = ErrorHandlers::<ErrHandler>::new();
    errors.set(HttpdErrCode::NotFound, |ctx, code| {
        ctx.send_err(code, None).unwrap();
        ErrorVerdict::KeepSession
    });
    let served = serve_routed(input, &mut r, &errors, |i, router| {
        if i == 1 {
            router.unregister("/hello", Method::Get).unwrap();
            router.register(Route::new("/new", Method::Get, named as Handler)).unwrap();
        }
    });
    let resp = responses(&served.output);
    assert_eq!(resp.iter().map(|r| r.status).collect::<Vec<_>>(), [200, 404, 200]);
    assert_eq!(resp[2].body_str(), "GET /new");
}
