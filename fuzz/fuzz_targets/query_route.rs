//! `Query::parse` and `route` on any method, path and query: never panic; every error is a
//! `BadRequestException`; a route found is an operation of the model with one label per
//! `{label}` of its template, and the same input always routes the same way.
#![no_main]

use arbitrary::Arbitrary;
use belfry::api::{self, Query};
use belfry::error::ErrorKind;
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"];

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: u8,
    other_method: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    /// Names to look up in the parsed query.
    lookups: Vec<&'a str>,
}

fuzz_target!(|input: Input<'_>| {
    let method = input
        .other_method
        .unwrap_or(METHODS[usize::from(input.method) % METHODS.len()]);
    let query = match Query::parse(input.query) {
        Ok(query) => query,
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::BadRequest, "{e}");
            return;
        }
    };
    for name in
        input
            .lookups
            .iter()
            .copied()
            .chain(["operation", "max-results", "next-token", "type"])
    {
        if let Err(e) = query.get(name) {
            assert_eq!(e.kind, ErrorKind::BadRequest, "{e}");
        }
    }
    match api::route(method, input.path, &query) {
        Ok(route) => {
            assert!(api::Op::ALL.contains(&route.op), "{route:?}");
            // Labels are whole segments: a path with more segments has no more labels than
            // segments.
            assert!(
                route.labels.len() <= input.path.split('/').count(),
                "{route:?}"
            );
            assert_eq!(
                api::route(method, input.path, &query),
                Ok(route),
                "deterministic"
            );
        }
        Err(e) => assert_eq!(e.kind, ErrorKind::BadRequest, "{e}"),
    }
});
