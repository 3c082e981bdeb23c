//! The URI handler table and the error handler table, through the public API: registration
//! order, duplicates per matcher, capacity, unregistering, and the 404/405/501 decisions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use tern_proto::Method;
use tern_proto::server::HttpdErrCode;
use tern_proto::server::router::{
    ErrorHandlers, ErrorVerdict, Lookup, MethodFilter, Route, RouteSlot, Router, RouterError,
};
use tern_proto::server::uri::UriMatch;

type Slots = [RouteSlot<&'static str, u32>; 8];

fn router(matcher: UriMatch, slots: &mut Slots) -> Router<&'static str, u32, &mut [RouteSlot<&'static str, u32>]> {
    Router::new(&mut slots[..], matcher)
}

/// The handler value `find` picked, or the error.
fn pick<S>(r: &Router<&'static str, u32, S>, method: Method<'_>, path: &str) -> Result<u32, HttpdErrCode>
where
    S: AsRef<[RouteSlot<&'static str, u32>]> + AsMut<[RouteSlot<&'static str, u32>]>,
{
    match r.find(&method, path) {
        Lookup::Found(route) => Ok(route.handler),
        other => Err(other.error_code().unwrap()),
    }
}

fn uris<S>(r: &Router<&'static str, u32, S>) -> Vec<(&'static str, MethodFilter)>
where
    S: AsRef<[RouteSlot<&'static str, u32>]> + AsMut<[RouteSlot<&'static str, u32>]>,
{
    r.iter().map(|route| (route.uri, route.method)).collect()
}

#[test]
fn registration_order_decides_not_template_length() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    r.register(Route::new("/a/?*", Method::Get, 1)).unwrap();
    r.register(Route::new("/a/b/*", Method::Get, 2)).unwrap_err(); // /a/?* takes it already
    assert_eq!(pick(&r, Method::Get, "/a/b/c"), Ok(1));

    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    r.register(Route::new("/a/b/*", Method::Get, 2)).unwrap();
    r.register(Route::new("/a/?*", Method::Get, 1)).unwrap();
    assert_eq!(pick(&r, Method::Get, "/a/b/c"), Ok(2));
    assert_eq!(pick(&r, Method::Get, "/a/x"), Ok(1));
    assert_eq!(pick(&r, Method::Get, "/a"), Ok(1));
    assert_eq!(r.len(), 2);
    assert_eq!(r.capacity(), 8);
}

#[test]
fn duplicates_follow_the_matcher() {
    // Exact: only the same string with the same method is a duplicate.
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Exact, &mut slots);
    r.register(Route::new("/a", Method::Get, 1)).unwrap();
    assert_eq!(r.register(Route::new("/a", Method::Get, 2)), Err(RouterError::HandlerExists));
    r.register(Route::new("/a", Method::Post, 3)).unwrap();
    r.register(Route::new("/a/", Method::Get, 4)).unwrap();
    r.register(Route::new("/a/*", Method::Get, 5)).unwrap();
    r.register(Route::new("/a/b", Method::Get, 6)).unwrap(); // `/a/*` is literal here
    assert_eq!(r.len(), 5);

    // Wildcard: an earlier template matching the new string blocks it, for the same method.
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    r.register(Route::new("/a/*", Method::Get, 1)).unwrap();
    assert_eq!(r.register(Route::new("/a/b", Method::Get, 2)), Err(RouterError::HandlerExists));
    assert_eq!(r.register(Route::new("/a/*", Method::Get, 2)), Err(RouterError::HandlerExists));
    r.register(Route::new("/a/b", Method::Post, 3)).unwrap();
    r.register(Route::new("/a", Method::Get, 4)).unwrap(); // `/a/*` does not match `/a`
    // A specific route registered before the wildcard is fine, and is found first.
    r.register(Route::new("/c/d", Method::Get, 5)).unwrap();
    r.register(Route::new("/c/*", Method::Get, 6)).unwrap();
    assert_eq!(pick(&r, Method::Get, "/c/d"), Ok(5));
    assert_eq!(pick(&r, Method::Get, "/c/e"), Ok(6));
}

#[test]
fn any_routes_as_duplicates_follow_esp_idf() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Exact, &mut slots);
    r.register(Route::new("/x", MethodFilter::Any, 1)).unwrap();
    // An earlier Any route blocks every method on its templates, and another Any.
    assert_eq!(r.register(Route::new("/x", Method::Get, 2)), Err(RouterError::HandlerExists));
    assert_eq!(r.register(Route::new("/x", MethodFilter::Any, 2)), Err(RouterError::HandlerExists));
    // An earlier one-method route does not block a later Any route (ESP-IDF's check).
    r.register(Route::new("/y", Method::Get, 3)).unwrap();
    r.register(Route::new("/y", MethodFilter::Any, 4)).unwrap();
    assert_eq!(pick(&r, Method::Get, "/y"), Ok(3));
    assert_eq!(pick(&r, Method::Delete, "/y"), Ok(4));
    assert_eq!(pick(&r, Method::Delete, "/x"), Ok(1));
    let ext = Method::from_token("M-SEARCH").unwrap();
    assert_eq!(pick(&r, ext, "/x"), Ok(1));
}

#[test]
fn full_table() {
    let mut slots: [RouteSlot<&'static str, u32>; 2] = [Route::NO_ROUTE; 2];
    let mut r = Router::new(&mut slots[..], UriMatch::Exact);
    r.register(Route::new("/1", Method::Get, 1)).unwrap();
    r.register(Route::new("/2", Method::Get, 2)).unwrap();
    assert_eq!(r.register(Route::new("/3", Method::Get, 3)), Err(RouterError::HandlersFull { capacity: 2 }));
    // A duplicate is reported before a full table, as ESP-IDF checks for it first.
    assert_eq!(r.register(Route::new("/2", Method::Get, 3)), Err(RouterError::HandlerExists));
    // Unregistering frees a slot.
    r.unregister("/1", Method::Get).unwrap();
    r.register(Route::new("/3", Method::Get, 3)).unwrap();
    assert_eq!(uris(&r), [("/2", MethodFilter::One(Method::Get)), ("/3", MethodFilter::One(Method::Get))]);

    let mut none: [RouteSlot<&'static str, u32>; 0] = [];
    let mut r = Router::new(&mut none[..], UriMatch::Exact);
    assert_eq!(r.register(Route::new("/", Method::Get, 0)), Err(RouterError::HandlersFull { capacity: 0 }));
}

#[test]
fn unregister_keeps_order_and_matches_exactly() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    for (i, uri) in ["/a", "/b", "/c", "/d"].into_iter().enumerate() {
        r.register(Route::new(uri, Method::Get, i as u32)).unwrap();
    }
    r.register(Route::new("/e/*", Method::Get, 9)).unwrap();
    let removed = r.unregister("/b", Method::Get).unwrap();
    assert_eq!((removed.uri, removed.handler), ("/b", 1));
    assert_eq!(r.iter().map(|x| x.uri).collect::<Vec<_>>(), ["/a", "/c", "/d", "/e/*"]);
    // Exact string and exact method filter: not through the matcher, not another method.
    assert_eq!(r.unregister("/e/x", Method::Get), Err(RouterError::NotFound));
    assert_eq!(r.unregister("/a", Method::Post), Err(RouterError::NotFound));
    assert_eq!(r.unregister("/a", MethodFilter::Any), Err(RouterError::NotFound));
    assert_eq!(r.unregister("/b", Method::Get), Err(RouterError::NotFound));
    r.unregister("/a", Method::Get).unwrap();
    r.unregister("/e/*", Method::Get).unwrap();
    assert_eq!(r.iter().map(|x| x.handler).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(pick(&r, Method::Get, "/b"), Err(HttpdErrCode::NotFound));
    assert_eq!(pick(&r, Method::Get, "/d"), Ok(3));
}

#[test]
fn unregister_uri_removes_every_method() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Exact, &mut slots);
    r.register(Route::new("/a", Method::Get, 1)).unwrap();
    r.register(Route::new("/b", Method::Get, 2)).unwrap();
    r.register(Route::new("/a", Method::Post, 3)).unwrap();
    r.register(Route::new("/c", Method::Get, 4)).unwrap();
    r.register(Route::new("/a", MethodFilter::Any, 5)).unwrap();
    assert_eq!(r.unregister_uri("/a"), 3);
    assert_eq!(r.unregister_uri("/a"), 0);
    assert_eq!(r.iter().map(|x| x.handler).collect::<Vec<_>>(), [2, 4]);
    r.clear();
    assert!(r.is_empty());
}

#[test]
fn not_found_method_not_allowed_not_implemented() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Exact, &mut slots);
    // An empty table: GET and HEAD are always implemented, others are not.
    assert_eq!(pick(&r, Method::Get, "/"), Err(HttpdErrCode::NotFound));
    assert_eq!(pick(&r, Method::Head, "/"), Err(HttpdErrCode::NotFound));
    assert_eq!(pick(&r, Method::Post, "/"), Err(HttpdErrCode::MethodNotImplemented));

    r.register(Route::new("/a", Method::Get, 1)).unwrap();
    r.register(Route::new("/b", Method::Post, 2)).unwrap();
    assert_eq!(pick(&r, Method::Get, "/a"), Ok(1));
    assert_eq!(pick(&r, Method::Post, "/b"), Ok(2));
    assert_eq!(pick(&r, Method::Get, "/b"), Err(HttpdErrCode::MethodNotAllowed));
    assert_eq!(pick(&r, Method::Post, "/a"), Err(HttpdErrCode::MethodNotAllowed));
    assert_eq!(pick(&r, Method::Get, "/c"), Err(HttpdErrCode::NotFound));
    assert_eq!(pick(&r, Method::Post, "/c"), Err(HttpdErrCode::NotFound));
    // Nobody serves PUT or an extension method: 501 whatever the path.
    assert_eq!(pick(&r, Method::Put, "/a"), Err(HttpdErrCode::MethodNotImplemented));
    assert_eq!(pick(&r, Method::Put, "/c"), Err(HttpdErrCode::MethodNotImplemented));
    let ext = Method::from_token("PURGE").unwrap();
    assert_eq!(pick(&r, ext, "/a"), Err(HttpdErrCode::MethodNotImplemented));
    // Once someone registers PUT, PUT is implemented: 405 / 404 again.
    r.register(Route::new("/d", Method::Put, 3)).unwrap();
    assert_eq!(pick(&r, Method::Put, "/a"), Err(HttpdErrCode::MethodNotAllowed));
    assert_eq!(pick(&r, Method::Put, "/c"), Err(HttpdErrCode::NotFound));
    assert!(r.implements(&Method::Put));
    assert!(!r.implements(&Method::Delete));
    // An Any route implements everything.
    r.register(Route::new("/any", MethodFilter::Any, 4)).unwrap();
    assert_eq!(pick(&r, Method::Delete, "/a"), Err(HttpdErrCode::MethodNotAllowed));
    assert_eq!(pick(&r, ext, "/zzz"), Err(HttpdErrCode::NotFound));
    assert_eq!(pick(&r, ext, "/any"), Ok(4));

    // The lookup's own accessors.
    assert_eq!(r.find(&Method::Get, "/a").route().map(|x| x.handler), Some(1));
    assert_eq!(r.find(&Method::Get, "/a").error_code(), None);
    assert!(r.find(&Method::Get, "/nope").route().is_none());
    assert_eq!(r.find(&Method::Get, "/nope"), Lookup::NotFound);
}

#[test]
fn head_falls_back_to_get() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    r.register(Route::new("/page", Method::Get, 1)).unwrap();
    r.register(Route::new("/own-head", Method::Get, 2)).unwrap();
    r.register(Route::new("/own-head", Method::Head, 3)).unwrap();
    r.register(Route::new("/post", Method::Post, 4)).unwrap();
    r.register(Route::new("/files/*", Method::Get, 5)).unwrap();
    assert_eq!(pick(&r, Method::Head, "/page"), Ok(1));
    assert_eq!(pick(&r, Method::Head, "/own-head"), Ok(3));
    assert_eq!(pick(&r, Method::Head, "/files/x"), Ok(5));
    assert_eq!(pick(&r, Method::Head, "/post"), Err(HttpdErrCode::MethodNotAllowed));
    assert_eq!(pick(&r, Method::Head, "/none"), Err(HttpdErrCode::NotFound));
    // A HEAD route earlier than a matching GET route still wins for HEAD (first pass).
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    r.register(Route::new("/x/*", Method::Get, 1)).unwrap();
    r.register(Route::new("/x/y", Method::Head, 2)).unwrap();
    assert_eq!(pick(&r, Method::Head, "/x/y"), Ok(2));
    assert_eq!(pick(&r, Method::Head, "/x/z"), Ok(1));
}

#[test]
fn wildcard_routes_dispatch() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    r.register(Route::new("/path/*", Method::Get, 1)).unwrap();
    r.register(Route::new("/opt/?*", Method::Get, 2)).unwrap();
    r.register(Route::new("/q/?", Method::Get, 3)).unwrap();
    for (path, expected) in [
        ("/path/", Ok(1)),
        ("/path/a/b", Ok(1)),
        ("/path", Err(HttpdErrCode::NotFound)),
        ("/opt", Ok(2)),
        ("/opt/", Ok(2)),
        ("/opt/deep/er", Ok(2)),
        ("/optx", Err(HttpdErrCode::NotFound)),
        ("/q", Ok(3)),
        ("/q/", Ok(3)),
        ("/q/x", Err(HttpdErrCode::NotFound)),
    ] {
        assert_eq!(pick(&r, Method::Get, path), expected, "GET {path}");
    }
    assert_eq!(pick(&r, Method::Post, "/path/x"), Err(HttpdErrCode::MethodNotImplemented));
    // `*` matches every path for POST, so GET on an unknown path is a 405 now.
    r.register(Route::new("*", Method::Post, 4)).unwrap();
    assert_eq!(pick(&r, Method::Post, "/anything/at/all"), Ok(4));
    assert_eq!(pick(&r, Method::Post, ""), Ok(4));
    assert_eq!(pick(&r, Method::Get, "/nothing"), Err(HttpdErrCode::MethodNotAllowed));
    assert_eq!(pick(&r, Method::Get, "/path/x"), Ok(1));
}

#[test]
fn allowed_methods_for_405() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    r.register(Route::new("/r/x", Method::Put, 1)).unwrap();
    r.register(Route::new("/r/*", Method::Get, 2)).unwrap();
    r.register(Route::new("/r/*", Method::Post, 3)).unwrap();
    r.register(Route::new("/r/x", Method::Delete, 4)).unwrap();
    r.register(Route::new("/other", Method::Patch, 5)).unwrap();
    let allowed: Vec<Method<'_>> = r.allowed_methods("/r/x").collect();
    assert_eq!(allowed, [Method::Put, Method::Get, Method::Post, Method::Delete, Method::Head]);
    assert_eq!(r.allowed_methods("/r/x").to_string(), "PUT, GET, POST, DELETE, HEAD");
    assert_eq!(r.allowed_methods("/r/y").to_string(), "GET, POST, HEAD");
    assert_eq!(r.allowed_methods("/other").to_string(), "PATCH");
    assert_eq!(r.allowed_methods("/none").count(), 0);
    assert_eq!(r.allowed_methods("/none").to_string(), "");

    // Duplicated methods are listed once; an explicit HEAD is not added again.
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    let mut r = router(UriMatch::Wildcard, &mut slots);
    r.register(Route::new("/a/b", Method::Get, 1)).unwrap();
    r.register(Route::new("/a/*", Method::Head, 2)).unwrap();
    r.register(Route::new("/a/?*", Method::Post, 3)).unwrap();
    r.register(Route::new("/a/*", Method::Get, 4)).unwrap(); // the exact `/a/b` does not match `/a/*`
    assert_eq!(r.allowed_methods("/a/b").to_string(), "GET, HEAD, POST");
    // Any routes are not listed.
    r.register(Route::new("/a/c", MethodFilter::Any, 5)).unwrap();
    assert_eq!(r.allowed_methods("/a/c").to_string(), "HEAD, POST, GET");
}

#[test]
fn websocket_options_and_owned_templates() {
    type Handler = Box<dyn Fn() -> u32>;
    let mut slots: Vec<RouteSlot<String, Handler>> = (0..3).map(|_| None).collect();
    let mut r = Router::new(slots.as_mut_slice(), UriMatch::Exact);
    let dynamic = String::from("/ws");
    let ws: Handler = Box::new(|| 7);
    r.register(
        Route::new(dynamic, Method::Get, ws)
            .websocket(true)
            .subprotocols(&["chat", "superchat"])
            .handle_ws_control_frames(true),
    )
    .unwrap();
    let plain: Handler = Box::new(|| 8);
    r.register(Route::new("/plain".to_string(), Method::Get, plain)).unwrap();
    let Lookup::Found(ws) = r.find(&Method::Get, "/ws") else { panic!() };
    assert!(ws.websocket && ws.handle_ws_control_frames);
    assert_eq!(ws.subprotocols, ["chat", "superchat"]);
    assert_eq!((ws.handler)(), 7);
    let Lookup::Found(plain) = r.find(&Method::Get, "/plain") else { panic!() };
    assert!(!plain.websocket && !plain.handle_ws_control_frames && plain.subprotocols.is_empty());
    assert_eq!((plain.handler)(), 8);

    // A Vec owned by the router works as well.
    let mut owned: Router<&str, u8, Vec<RouteSlot<&str, u8>>> = Router::new(vec![None; 4], UriMatch::Wildcard);
    owned.register(Route::new("/v", Method::Get, 1)).unwrap();
    assert_eq!(owned.capacity(), 4);
    assert_eq!(owned.matcher(), UriMatch::Wildcard);
}

#[test]
fn router_new_clears_its_storage() {
    let mut slots: Slots = [Route::NO_ROUTE; 8];
    {
        let mut r = router(UriMatch::Exact, &mut slots);
        r.register(Route::new("/old", Method::Get, 1)).unwrap();
    }
    let r = router(UriMatch::Exact, &mut slots);
    assert!(r.is_empty());
    assert_eq!(r.iter().count(), 0);
}

#[test]
fn error_handler_table() {
    let mut handlers: ErrorHandlers<&'static str> = ErrorHandlers::default();
    for code in HttpdErrCode::ALL {
        assert!(handlers.get(code).is_none());
    }
    assert_eq!(handlers.set(HttpdErrCode::NotFound, "a"), None);
    assert_eq!(handlers.set(HttpdErrCode::NotFound, "b"), Some("a"));
    assert_eq!(handlers.set(HttpdErrCode::RequestHeaderFieldsTooLarge, "c"), None);
    assert_eq!(handlers.get(HttpdErrCode::NotFound), Some(&"b"));
    assert_eq!(
        handlers.iter().collect::<Vec<_>>(),
        [(HttpdErrCode::NotFound, &"b"), (HttpdErrCode::RequestHeaderFieldsTooLarge, &"c")]
    );
    assert_eq!(handlers.clear(HttpdErrCode::NotFound), Some("b"));
    assert_eq!(handlers.clear(HttpdErrCode::NotFound), None);
    assert!(handlers.get(HttpdErrCode::NotFound).is_none());
    // Every code has its own slot.
    let mut all = ErrorHandlers::new();
    for code in HttpdErrCode::ALL {
        all.set(code, code as u8);
    }
    for code in HttpdErrCode::ALL {
        assert_eq!(all.get(code), Some(&(code as u8)));
    }
}

#[test]
fn effective_verdict_for_all_thirteen_codes() {
    use ErrorVerdict::{CloseSession, KeepSession};
    for code in HttpdErrCode::ALL {
        for verdict in [KeepSession, CloseSession] {
            // An uncertain stream always closes.
            assert_eq!(ErrorVerdict::effective(code, verdict, true), CloseSession, "{code:?}");
            // 500 always closes; otherwise the handler decides.
            let expected = if code == HttpdErrCode::InternalServerError { CloseSession } else { verdict };
            assert_eq!(ErrorVerdict::effective(code, verdict, false), expected, "{code:?} {verdict:?}");
            assert_eq!(ErrorVerdict::effective(code, verdict, false).closes(), expected == CloseSession);
        }
    }
}

/// Pinned for 64-bit hosts: growth is a deliberate change. A route is its template, a
/// 24-byte method filter (an extension method is a `&str`), the handler and the WebSocket
/// options; the router itself is its storage handle, a length and the matcher.
#[cfg(target_pointer_width = "64")]
#[test]
fn sizes() {
    use core::mem::size_of;
    assert_eq!(size_of::<MethodFilter>(), 24);
    assert_eq!(size_of::<Route<&'static str, fn()>>(), 72);
    assert_eq!(size_of::<RouteSlot<&'static str, fn()>>(), 72);
    assert_eq!(size_of::<Lookup<'_, &'static str, fn()>>(), 16);
    assert_eq!(size_of::<ErrorVerdict>(), 1);
    assert_eq!(size_of::<ErrorHandlers<fn()>>(), 13 * 8);
    assert_eq!(size_of::<RouterError>(), 16);
    assert_eq!(size_of::<Router<&'static str, fn(), &mut [RouteSlot<&'static str, fn()>]>>(), 32);
}
