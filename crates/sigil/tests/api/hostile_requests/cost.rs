//! The cost of handling a hostile input, judged as a ratio against a best-case input of the
//! same size sent to the same endpoint (never an absolute time, so a loaded machine cannot fail
//! it), and requests run on a small stack, so unbounded recursion fails loudly.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::http::Method;

use crate::support::{TestApp, TestResponse};

/// A linear handler may be this many times slower on its worst input than on its best. In a
/// debug build, linear handlers that allocate per element reach about 19 times a flat input of
/// the same size; every quadratic or amplifying defect seen so far cost 59 times or more.
pub const MAX_RATIO: f64 = 30.0;
/// Runs per input; the fastest counts.
const RUNS: usize = 3;
/// A run this far past the bound (and at least this long) is a stall: no need to repeat it.
const STALL_RATIO: f64 = 10.0 * MAX_RATIO;
const STALL_FLOOR: Duration = Duration::from_secs(2);
/// The stack a request is given by [`get_on_small_stack`]: a `where` nested to its 64-level
/// limit needs more than 256 KiB in a debug build, while a parser recursing once per character
/// of a 4 KiB expression needs several MiB.
pub const SMALL_STACK: usize = 512 * 1024;

/// Sends the best-case and the worst-case request `RUNS` times each and asserts the fastest
/// worst run costs less than [`MAX_RATIO`] times the fastest best run; answers the last answers
/// (best, worst) for the caller's own assertions.
pub async fn assert_linear<B, BF, W, WF>(
    case: &str,
    mut best: B,
    mut worst: W,
) -> (TestResponse, TestResponse)
where
    B: FnMut() -> BF,
    BF: Future<Output = TestResponse>,
    W: FnMut() -> WF,
    WF: Future<Output = TestResponse>,
{
    let mut best_time = Duration::MAX;
    let mut best_answer = None;
    for _ in 0..RUNS {
        let (elapsed, answer) = timed(best()).await;
        best_time = best_time.min(elapsed);
        best_answer = Some(answer);
    }
    let best_time = best_time.max(Duration::from_micros(50));
    let mut worst_time = Duration::MAX;
    let mut worst_answer = None;
    for _ in 0..RUNS {
        let (elapsed, answer) = timed(worst()).await;
        worst_time = worst_time.min(elapsed);
        worst_answer = Some(answer);
        let ratio = elapsed.as_secs_f64() / best_time.as_secs_f64();
        if ratio < MAX_RATIO || (ratio > STALL_RATIO && elapsed > STALL_FLOOR) {
            break;
        }
    }
    let ratio = worst_time.as_secs_f64() / best_time.as_secs_f64();
    eprintln!("{case}: worst {worst_time:?}, {ratio:.1} times the best {best_time:?}");
    assert!(
        ratio < MAX_RATIO,
        "{case}: the worst case took {worst_time:?}, {ratio:.1} times the best case's \
         {best_time:?} (bound: {MAX_RATIO})"
    );
    (
        best_answer.expect("at least one run"),
        worst_answer.expect("at least one run"),
    )
}

async fn timed(request: impl Future<Output = TestResponse>) -> (Duration, TestResponse) {
    let started = Instant::now();
    let answer = request.await;
    (started.elapsed(), answer)
}

/// `GET path` with `token` on a thread of [`SMALL_STACK`] bytes with its own runtime, so a
/// parser that recurses once per input character overflows there (aborting the test binary,
/// which fails this test) instead of passing on a large main stack. Needs a multi-thread
/// runtime: the caller's worker is parked meanwhile. `case` is printed first, as an abort
/// leaves no other trace of which request it was.
pub fn get_on_small_stack(case: &str, app: &TestApp, token: &str, path: &str) -> TestResponse {
    eprintln!("on a {} KiB stack: {case}", SMALL_STACK / 1024);
    tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("small-stack-request".into())
                .stack_size(SMALL_STACK)
                .spawn_scoped(scope, || {
                    let request = Box::pin(app.call(Method::GET, path).token(token).send());
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime")
                        .block_on(request)
                })
                .expect("a thread")
                .join()
                .expect("the request returned normally on a small stack")
        })
    })
}
