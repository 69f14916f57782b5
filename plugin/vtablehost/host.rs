//! pgdog-host: loads a PgDog vtable plugin (pgdog-plugin 0.4 ABI) the way
//! today's PgDog does and calls it. std only: the libc functions and structs
//! it needs are declared below for x86-64 glibc Linux. It is the project's
//! only host of this ABI (docs/ARCHITECTURE.md says why there is no C twin).
//!
//! Build (plugin/vtablehost/build.sh does this):
//!   RUSTC_VERSION="$(rustc --version)" rustc --edition 2021 -O \
//!     -L native=OBJDIR -l static=vhpgparse -L native=LIBDIR -l static=pg_query \
//!     -o build/pgdog-host plugin/vtablehost/host.rs
//! where OBJDIR/libvhpgparse.a holds pgparse.o and LIBDIR has libpg_query.a.
//! RUSTC_VERSION is the version the host expects from the plugin, as
//! pgdog-plugin's build.rs bakes `rustc --version` into PgDog; rustc itself
//! writes "rustc version ..." into this binary's .comment section.
//!
//! The serve protocol (`pgdog-host [options] serve`):
//! the plugin is loaded once; then each stdin line that is not blank and
//! does not start with '#' is a case line (format below and in USAGE) and
//! gets exactly one stdout line, flushed at once:
//!   <id>\t<shard>\t<rw>          what PgDog acts on after its overrides:
//!                                 shard an integer >= 0 (0 on a one-shard
//!                                 cluster), ALL or UNKNOWN; rw read, write
//!                                 or unknown
//!   <id>\tBLOCKED\t<rw>\t42601 query is blocked by plugin "<name>"
//!   <id>\tNOCALL\t<reason>        PgDog would not call the plugin
//!   <id>\tPARSE_ERROR\t<message>  the SQL does not parse (PostgreSQL 18)
//!   <id>\tBAD_CASE\t<message>     the line is not a case line (id "-"
//!                                 when its first field is empty)
//! End of stdin: fini, exit 0. Example (stdin, then stdout):
//!   s1\t4\tPR\t53454c45435420...\t-
//!   s1\t2\tread
//! Case line: <id> TAB <shards> TAB <flags> TAB <sql hex> TAB <codes|->
//! [TAB <param>]...; flags: w write_override, t in_transaction; message
//! kind b Bind (default), q simple Query, d Parse/Describe without Bind;
//! cluster shape P (has a primary), R (has replicas), filled as PgDog does
//! (has_replicas = P, has_primary = R), or the raw arguments r/p; param hex,
//! ~ NULL, empty ''.

use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const HOST_RUSTC_VERSION: &str = env!("RUSTC_VERSION");
const HOST_API_VERSION: &str = "0.4.0";

const USAGE: &str = r#"usage: pgdog-host [options] MODE [CASEFILE]
Loads a PgDog plugin through the pgdog-plugin 0.4 vtable ABI the way PgDog
does (dlopen, PGDOG_PLUGIN_VTABLE, api version 0.4 by full semver, rustc
version byte for byte, logging_init, init, config) and calls it when and as
PgDog v0.1.54 would (default settings: query_parser auto, pooler_mode
transaction, two_pc off).
modes:
  check              load, print the versions, fini; exit 0 when loaded
  route CASEFILE     route every case once, print <id>\t<shard>\t<read_write>
                     (the plugin's raw Route; shard -3 adds
                     \t42601 query is blocked by plugin "NAME"\t<detail>,
                     the detail being the SQL with \t \n \r \\ escaped),
                     <id>\tNOCALL\t<reason> or <id>\tPARSE_ERROR\t<message>;
                     with --threads N --repeat R, then route all called
                     cases R times from each of N threads and compare
  load CASEFILE      N threads (default 2) route the cases for D seconds
                     (default 3); prints calls per second
  signals CASEFILE   N routing threads (default 4) for D seconds (default 3)
                     while a storm thread sends SIGHUP (process- and
                     thread-directed) and now and then SIGINT/SIGTERM
  serve              load the plugin once, then read case lines on stdin;
                     for each one write one line to stdout and flush; blank
                     and '#' lines get none. The answer is what PgDog acts
                     on, after its own overrides (one shard: shard 0):
                       <id>\t<shard>\t<rw>   shard: an integer >= 0, ALL or
                                          UNKNOWN; rw: read, write, unknown
                       <id>\tBLOCKED\t<rw>\t42601 query is blocked by plugin "NAME"
                                          (the client's error; its detail is
                                          the SQL text as sent)
                       <id>\tNOCALL\t<reason>   PgDog would not call the plugin
                       <id>\tPARSE_ERROR\t<message>   the SQL does not parse
                       <id>\tBAD_CASE\t<message>   (id - when empty)
                     at the end of stdin: fini, exit 0. No signal handlers
                     are installed: SIGTERM/SIGINT end it.
options:
  --plugin NAME      plugin name as in [[plugins]] name (default vecshard):
                     a bare name loads lib<NAME>.so from the library path,
                     a name with an extension is a path
  --config PATH      [[plugins]] config, passed as Config.plugin_config
  --log-level LEVEL  Config.log_level (default info)
  --log-json         Config.log_json = true
  --threads N        threads (route: 0 = no concurrent pass; load 2; signals 4)
  --repeat R         route: passes per thread (default 1)
  --seconds D        load/signals duration (default 3)
  --storm-interval-us U  signals: pause between storm rounds (default 0)
  --abort-on-foreign-stack  abort at once when a handler runs on a stack
                     that is not its thread's own
case line: TAB-separated, '#' lines skipped:
  <id> <shards> <flags> <sql hex> <format codes|-> [<param>...]
  flags: letters, or - for none:
    w  write_override      t  in_transaction
    message kind (one):  b Bind (default; the case's parameters)
       q simple Query (no parameters)   d Parse or Describe without Bind
    cluster shape:  P the cluster has a primary   R it has replicas
       (PgDog fills has_replicas = P, has_primary = R: swapped)
    or raw arguments (not with P R):  r has_replicas   p has_primary
       (the shape is then P = r, R = p)
  param: hex bytes, ~ for NULL (len SIZE_MAX, data NULL), empty for ''
  (len 0, data NULL)
PgDog does not call the plugin (NOCALL) for: d; a one-shard cluster without
  a primary or without replicas (unless the text starts with SET RESET BEGIN
  COMMIT ROLLBACK LISTEN UNLISTEN NOTIFY, which makes PgDog parse); an empty
  query; a first statement that is SET/RESET, SELECT set_config(...), SHOW,
  DEALLOCATE, LISTEN, NOTIFY, UNLISTEN, DISCARD, BEGIN, START TRANSACTION,
  COMMIT/END, ROLLBACK/ABORT; several statements that mix SET with others.
exit codes: 0 ok, 1 check failed (mismatch, foreign stack), 2 usage,
  3 dlopen failed, 4 no vtable, 5 api version, 6 rustc version,
  7 config returned false, 8 bad case file, 9 internal error
"#;

// ---- ABI -------------------------------------------------------------------

#[repr(C)]
#[derive(Clone, Copy)]
struct PdStr {
    data: *const u8,
    len: usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct PdConfig {
    log_level: PdStr,
    log_json: bool,
    plugin_config: PdStr,
}

#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq)]
struct PdRoute {
    shard: i64,
    read_write: u8,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct PdParameter {
    len: usize,
    data: *const u8,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct PdRawParameters {
    params: *const PdParameter,
    params_len: usize,
    format_codes: *const i32,
    format_codes_len: usize,
}

#[repr(C)]
struct PdList {
    type_: i32,
    length: i32,
    max_length: i32,
    elements: *mut *mut c_void,
}

type StrFn = extern "C" fn() -> PdStr;
type VoidFn = extern "C" fn();
type ConfigFn = extern "C" fn(PdConfig) -> bool;
type LogFn = extern "C" fn(PdConfig);
type RouteFn =
    extern "C" fn(u64, bool, bool, bool, bool, *const PdList, PdRawParameters) -> PdRoute;

#[repr(C)]
struct RawVtable {
    pgdog_plugin_api_version: Option<StrFn>,
    rustc_version: Option<StrFn>,
    plugin_version: Option<StrFn>,
    init: Option<VoidFn>,
    fini: Option<VoidFn>,
    config: Option<ConfigFn>,
    route: Option<RouteFn>,
    logging_init: Option<LogFn>,
}

const _: () = {
    assert!(std::mem::size_of::<PdStr>() == 16);
    assert!(std::mem::size_of::<PdConfig>() == 40);
    assert!(std::mem::offset_of!(PdConfig, plugin_config) == 24);
    assert!(std::mem::size_of::<PdRoute>() == 16);
    assert!(std::mem::offset_of!(PdRoute, read_write) == 8);
    assert!(std::mem::size_of::<PdParameter>() == 16);
    assert!(std::mem::size_of::<PdRawParameters>() == 32);
    assert!(std::mem::size_of::<PdList>() == 24);
    assert!(std::mem::offset_of!(PdList, elements) == 16);
    assert!(std::mem::size_of::<RawVtable>() == 64);
    assert!(std::mem::offset_of!(RawVtable, logging_init) == 56);
};

struct Vtable {
    api: StrFn,
    rustc: StrFn,
    pv: StrFn,
    init: VoidFn,
    fini: VoidFn,
    config: ConfigFn,
    route: RouteFn,
    logging_init: LogFn,
}

// ---- libc (x86-64 glibc) ----------------------------------------------------

#[repr(C)]
struct SigAction {
    sa_sigaction: usize,
    sa_mask: [u64; 16],
    sa_flags: c_int,
    sa_restorer: usize,
}

#[repr(C)]
struct StackT {
    ss_sp: *mut c_void,
    ss_flags: c_int,
    ss_size: usize,
}

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: i16,
    revents: i16,
}

#[repr(C, align(8))]
struct PthreadAttr([u8; 56]);

const _: () = {
    assert!(std::mem::size_of::<SigAction>() == 152);
    assert!(std::mem::size_of::<StackT>() == 24);
};

const RTLD_LAZY: c_int = 1;
const RTLD_LOCAL: c_int = 0;
const SIGHUP: c_int = 1;
const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;
const SA_SIGINFO: c_int = 4;
const SA_ONSTACK: c_int = 0x0800_0000;
const SA_RESTART: c_int = 0x1000_0000;
const SS_ONSTACK: c_int = 1;
const O_NONBLOCK: c_int = 0o4000;
const O_CLOEXEC: c_int = 0o2000000;
const POLLIN: i16 = 1;
const SYS_GETTID: c_long = 186;
const SYS_TGKILL: c_long = 234;

extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *mut c_char;
    fn sigaction(sig: c_int, act: *const SigAction, old: *mut SigAction) -> c_int;
    fn sigemptyset(set: *mut [u64; 16]) -> c_int;
    fn sigaltstack(ss: *const StackT, old: *mut StackT) -> c_int;
    fn syscall(num: c_long, ...) -> c_long;
    fn pthread_self() -> u64;
    fn pthread_getattr_np(th: u64, attr: *mut PthreadAttr) -> c_int;
    fn pthread_attr_getstack(attr: *const PthreadAttr, addr: *mut *mut c_void, size: *mut usize) -> c_int;
    fn pthread_attr_destroy(attr: *mut PthreadAttr) -> c_int;
    fn pipe2(fds: *mut c_int, flags: c_int) -> c_int;
    fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    fn read(fd: c_int, buf: *mut c_void, n: usize) -> isize;
    fn poll(fds: *mut PollFd, n: u64, timeout: c_int) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn getpid() -> c_int;
    fn abort() -> !;
    fn __errno_location() -> *mut c_int;
}

// pgparse.c
extern "C" {
    fn vh_parse(sql: *const c_char, err: *mut *mut c_char, ctx: *mut *mut c_void) -> *mut PdList;
    fn vh_free(ctx: *mut c_void);
    fn vh_layout_check() -> c_int;
    fn vh_free_error(e: *mut c_char);
    fn vh_nocall_reason(stmts: *const c_void) -> *const c_char;
    fn vh_regex_parser_match(sql: *const c_char) -> c_int;
}

// ---- exit codes ---------------------------------------------------------------

const EX_OK: i32 = 0;
const EX_FAIL: i32 = 1;
const EX_USAGE: i32 = 2;
const EX_DLOPEN: i32 = 3;
const EX_VTABLE: i32 = 4;
const EX_API: i32 = 5;
const EX_RUSTC: i32 = 6;
const EX_CONFIG: i32 = 7;
const EX_CASES: i32 = 8;
const EX_INTERNAL: i32 = 9;

fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

fn log(level: &str, msg: &str) {
    eprintln!("pgdog-host: {level}: {msg}");
}

fn err_bytes(parts: &[&[u8]]) {
    let mut e = std::io::stderr().lock();
    for p in parts {
        let _ = e.write_all(p);
    }
}

fn str_bytes(s: &PdStr) -> &'static [u8] {
    if s.len == 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(s.data, s.len) }
    }
}

// ---- options --------------------------------------------------------------------

struct Opts {
    plugin: String,
    config: String,
    log_level: String,
    log_json: bool,
    abort_foreign: bool,
    threads: i64,
    repeat: i64,
    seconds: f64,
    storm_us: i64,
    mode: String,
    casefile: Option<String>,
}

fn usage_exit(msg: Option<&str>) -> ! {
    if let Some(m) = msg {
        eprintln!("pgdog-host: {m}");
    }
    eprint!("{USAGE}");
    exit(EX_USAGE)
}

fn parse_long(name: &str, v: &str, min: i64) -> i64 {
    // what strtol(v, &end, 10) accepts with errno, end == v and *end checks
    let t = v.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let ok = {
        let d = t.strip_prefix(['+', '-']).unwrap_or(t);
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
    };
    let x = if ok { t.strip_prefix('+').unwrap_or(t).parse::<i64>().ok() } else { None };
    match x {
        Some(x) if x >= min => x,
        _ => {
            eprintln!("pgdog-host: bad value for {name}: {v}");
            usage_exit(None)
        }
    }
}

fn parse_args() -> Opts {
    let mut o = Opts {
        plugin: "vecshard".into(),
        config: String::new(),
        log_level: "info".into(),
        log_json: false,
        abort_foreign: false,
        threads: 0,
        repeat: 1,
        seconds: 3.0,
        storm_us: 0,
        mode: String::new(),
        casefile: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut threads_set = false;
    let mut mode: Option<String> = None;
    let mut npos = 0;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "-h" || a == "--help" {
            print!("{USAGE}");
            exit(0);
        }
        if a.starts_with("--") {
            let (name, mut val) = match a.find('=') {
                Some(p) => (&a[..p], Some(a[p + 1..].to_string())),
                None => (a.as_str(), None),
            };
            if name.len() >= 64 {
                usage_exit(Some("unknown option"));
            }
            if name == "--log-json" || name == "--abort-on-foreign-stack" {
                if val.is_some() {
                    usage_exit(Some("option takes no value"));
                }
                if name == "--log-json" {
                    o.log_json = true;
                } else {
                    o.abort_foreign = true;
                }
                i += 1;
                continue;
            }
            if val.is_none() {
                if i + 1 >= args.len() {
                    eprintln!("pgdog-host: {name} needs a value");
                    usage_exit(None);
                }
                i += 1;
                val = Some(args[i].clone());
            }
            let v = val.unwrap();
            match name {
                "--plugin" => o.plugin = v,
                "--config" => o.config = v,
                "--log-level" => o.log_level = v,
                "--threads" => {
                    o.threads = parse_long(name, &v, 0);
                    threads_set = true;
                }
                "--repeat" => o.repeat = parse_long(name, &v, 1),
                "--storm-interval-us" => o.storm_us = parse_long(name, &v, 0),
                "--seconds" => match v.parse::<f64>() {
                    Ok(s) if s > 0.0 && s <= 1e6 => o.seconds = s,
                    _ => {
                        eprintln!("pgdog-host: bad value for {name}: {v}");
                        usage_exit(None)
                    }
                },
                _ => {
                    eprintln!("pgdog-host: unknown option {name}");
                    usage_exit(None)
                }
            }
            i += 1;
            continue;
        }
        match npos {
            0 => mode = Some(a.clone()),
            1 => o.casefile = Some(a.clone()),
            _ => usage_exit(Some("too many arguments")),
        }
        npos += 1;
        i += 1;
    }
    let Some(mode) = mode else { usage_exit(Some("no mode given")) };
    let need_cases = mode != "check" && mode != "serve";
    if !["check", "route", "load", "signals", "serve"].contains(&mode.as_str()) {
        usage_exit(Some("unknown mode"));
    }
    if need_cases && o.casefile.is_none() {
        usage_exit(Some("this mode needs a CASEFILE"));
    }
    if !need_cases && o.casefile.is_some() {
        usage_exit(Some("check and serve take no CASEFILE"));
    }
    if !threads_set {
        o.threads = match mode.as_str() {
            "load" => 2,
            "signals" => 4,
            _ => 0,
        };
    }
    if (mode == "load" || mode == "signals") && o.threads < 1 {
        usage_exit(Some("--threads must be at least 1 for this mode"));
    }
    if o.threads > 512 {
        usage_exit(Some("--threads: at most 512"));
    }
    o.mode = mode;
    o
}

// ---- semver (the semver crate's Version::parse grammar) ----------------------

fn sv_num(s: &[u8], p: &mut usize) -> Option<u64> {
    let b = *p;
    if b >= s.len() || !s[b].is_ascii_digit() {
        return None;
    }
    if s[b] == b'0' && b + 1 < s.len() && s[b + 1].is_ascii_digit() {
        return None;
    }
    let mut v: u64 = 0;
    let mut i = b;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add((s[i] - b'0') as u64)?;
        i += 1;
    }
    *p = i;
    Some(v)
}

fn sv_idents(s: &[u8], p: &mut usize, stop: Option<u8>, pre: bool) -> bool {
    let mut i = *p;
    loop {
        let b = i;
        let mut numeric = true;
        while i < s.len() && s[i] != b'.' && Some(s[i]) != stop {
            let c = s[i];
            if !(c.is_ascii_alphanumeric() || c == b'-') {
                return false;
            }
            if !c.is_ascii_digit() {
                numeric = false;
            }
            i += 1;
        }
        if i == b {
            return false;
        }
        if pre && numeric && s[b] == b'0' && i - b > 1 {
            return false;
        }
        if i < s.len() && s[i] == b'.' {
            i += 1;
            continue;
        }
        break;
    }
    *p = i;
    true
}

/// (major, minor) of a full semver version, None when it does not parse.
fn semver_parse(s: &[u8]) -> Option<(u64, u64)> {
    let mut p = 0;
    let major = sv_num(s, &mut p)?;
    if p >= s.len() || s[p] != b'.' {
        return None;
    }
    p += 1;
    let minor = sv_num(s, &mut p)?;
    if p >= s.len() || s[p] != b'.' {
        return None;
    }
    p += 1;
    sv_num(s, &mut p)?;
    if p < s.len() && s[p] == b'-' {
        p += 1;
        if !sv_idents(s, &mut p, Some(b'+'), true) {
            return None;
        }
    }
    if p < s.len() && s[p] == b'+' {
        p += 1;
        if !sv_idents(s, &mut p, None, false) {
            return None;
        }
    }
    if p == s.len() {
        Some((major, minor))
    } else {
        None
    }
}

// ---- thread registry and signal handler ----------------------------------------

const MAX_THREADS: usize = 1024;

struct Thr {
    tid: AtomicI64,
    lo: AtomicUsize,
    hi: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const THR_INIT: Thr = Thr { tid: AtomicI64::new(0), lo: AtomicUsize::new(0), hi: AtomicUsize::new(0) };
static THR_TAB: [Thr; MAX_THREADS] = [THR_INIT; MAX_THREADS];
static THR_N: AtomicUsize = AtomicUsize::new(0);

static C_DELIVERED: AtomicU64 = AtomicU64::new(0);
static C_NATIVE: AtomicU64 = AtomicU64::new(0);
static C_ALTSTACK: AtomicU64 = AtomicU64::new(0);
static C_FOREIGN: AtomicU64 = AtomicU64::new(0);
static C_OTHER: AtomicU64 = AtomicU64::new(0);
static C_HUP: AtomicU64 = AtomicU64::new(0);
static C_INT: AtomicU64 = AtomicU64::new(0);
static C_TERM: AtomicU64 = AtomicU64::new(0);
static PIPE_W: AtomicI64 = AtomicI64::new(-1);
static ABORT_ON_FOREIGN: AtomicBool = AtomicBool::new(false);
static PIPE_BYTES: AtomicU64 = AtomicU64::new(0);

fn gettid() -> i64 {
    unsafe { syscall(SYS_GETTID) as i64 }
}

fn register_thread() -> Option<usize> {
    let mut attr = PthreadAttr([0; 56]);
    let mut addr: *mut c_void = std::ptr::null_mut();
    let mut size: usize = 0;
    unsafe {
        if pthread_getattr_np(pthread_self(), &mut attr) != 0 {
            return None;
        }
        pthread_attr_getstack(&attr, &mut addr, &mut size);
        pthread_attr_destroy(&mut attr);
    }
    let i = THR_N.fetch_add(1, Ordering::SeqCst);
    if i >= MAX_THREADS {
        return None;
    }
    THR_TAB[i].lo.store(addr as usize, Ordering::Relaxed);
    THR_TAB[i].hi.store(addr as usize + size, Ordering::Relaxed);
    THR_TAB[i].tid.store(gettid(), Ordering::Release);
    Some(i)
}

fn unregister_thread(i: Option<usize>) {
    if let Some(i) = i {
        THR_TAB[i].tid.store(0, Ordering::Release);
    }
}

extern "C" fn on_signal(sig: c_int, _info: *mut c_void, _uctx: *mut c_void) {
    unsafe {
        let saved = *__errno_location();
        let here = 0u8;
        let sp = std::hint::black_box(&here) as *const u8 as usize;
        C_DELIVERED.fetch_add(1, Ordering::SeqCst);
        match sig {
            SIGHUP => C_HUP.fetch_add(1, Ordering::SeqCst),
            SIGINT => C_INT.fetch_add(1, Ordering::SeqCst),
            SIGTERM => C_TERM.fetch_add(1, Ordering::SeqCst),
            _ => 0,
        };
        let fd = PIPE_W.load(Ordering::Relaxed);
        if fd >= 0 {
            let b = sig as u8;
            write(fd as c_int, &b as *const u8 as *const c_void, 1);
        }
        let mut ss = StackT { ss_sp: std::ptr::null_mut(), ss_flags: 0, ss_size: 0 };
        if sigaltstack(std::ptr::null(), &mut ss) == 0 && (ss.ss_flags & SS_ONSTACK) != 0 {
            C_ALTSTACK.fetch_add(1, Ordering::SeqCst);
        } else {
            let tid = gettid();
            let n = THR_N.load(Ordering::SeqCst).min(MAX_THREADS);
            let mut found = None;
            for (i, t) in THR_TAB.iter().enumerate().take(n) {
                if t.tid.load(Ordering::Acquire) == tid {
                    found = Some(i);
                    break;
                }
            }
            match found {
                None => {
                    C_OTHER.fetch_add(1, Ordering::SeqCst);
                }
                Some(i) => {
                    let lo = THR_TAB[i].lo.load(Ordering::Relaxed);
                    let hi = THR_TAB[i].hi.load(Ordering::Relaxed);
                    if sp >= lo && sp < hi {
                        C_NATIVE.fetch_add(1, Ordering::SeqCst);
                    } else {
                        C_FOREIGN.fetch_add(1, Ordering::SeqCst);
                        if ABORT_ON_FOREIGN.load(Ordering::Relaxed) {
                            let m = b"pgdog-host: signal handler ran on a foreign stack, aborting\n";
                            write(2, m.as_ptr() as *const c_void, m.len());
                            abort();
                        }
                    }
                }
            }
        }
        *__errno_location() = saved;
    }
}

static DRAIN_STOP: AtomicBool = AtomicBool::new(false);

fn drain_pipe(fd: c_int) {
    let mut buf = [0u8; 256];
    loop {
        let n = unsafe { read(fd, buf.as_mut_ptr() as *mut c_void, buf.len()) };
        if n <= 0 {
            break;
        }
        PIPE_BYTES.fetch_add(n as u64, Ordering::SeqCst);
    }
}

fn install_handlers(o: &Opts) -> (std::thread::JoinHandle<()>, c_int) {
    ABORT_ON_FOREIGN.store(o.abort_foreign, Ordering::SeqCst);
    let mut fds = [-1 as c_int; 2];
    if unsafe { pipe2(fds.as_mut_ptr(), O_NONBLOCK | O_CLOEXEC) } != 0 {
        log("ERROR", &format!("pipe2: {}", std::io::Error::last_os_error()));
        exit(EX_INTERNAL);
    }
    PIPE_W.store(fds[1] as i64, Ordering::SeqCst);
    let rfd = fds[0];
    let drainer = std::thread::Builder::new()
        .spawn(move || {
            let me = register_thread();
            while !DRAIN_STOP.load(Ordering::SeqCst) {
                let mut pf = PollFd { fd: rfd, events: POLLIN, revents: 0 };
                if unsafe { poll(&mut pf, 1, 50) } > 0 {
                    drain_pipe(rfd);
                }
            }
            unregister_thread(me);
        })
        .unwrap_or_else(|_| {
            log("ERROR", "pthread_create failed");
            exit(EX_INTERNAL)
        });
    for (sig, name) in [(SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP"), (SIGINT, "SIGINT")] {
        let mut sa = SigAction { sa_sigaction: 0, sa_mask: [0; 16], sa_flags: 0, sa_restorer: 0 };
        let mut old = SigAction { sa_sigaction: 0, sa_mask: [0; 16], sa_flags: 0, sa_restorer: 0 };
        sa.sa_sigaction = on_signal as extern "C" fn(c_int, *mut c_void, *mut c_void) as usize;
        unsafe { sigemptyset(&mut sa.sa_mask) };
        sa.sa_flags = SA_RESTART | SA_SIGINFO; // signal-hook-registry: no SA_ONSTACK
        let r = unsafe { sigaction(sig, &sa, std::ptr::null_mut()) | sigaction(sig, std::ptr::null(), &mut old) };
        if r != 0 {
            log("ERROR", &format!("sigaction: {}", std::io::Error::last_os_error()));
            exit(EX_INTERNAL);
        }
        log(
            "INFO",
            &format!(
                "installed {name} handler flags={:#x} (SA_ONSTACK {})",
                old.sa_flags as u32,
                if old.sa_flags & SA_ONSTACK != 0 { "set" } else { "not set" }
            ),
        );
    }
    (drainer, rfd)
}

fn signal_counts(routes: u64, mism: u64, sent_proc: u64, sent_thr: u64) -> String {
    let l = |a: &AtomicU64| a.load(Ordering::SeqCst);
    format!(
        "signals: delivered={} foreign_stack={} other_thread={} routes={} native={} altstack={} \
         sighup={} sigint={} sigterm={} pipe_bytes={} sent_process={} sent_thread={} mismatches={}\n",
        l(&C_DELIVERED), l(&C_FOREIGN), l(&C_OTHER), routes, l(&C_NATIVE), l(&C_ALTSTACK),
        l(&C_HUP), l(&C_INT), l(&C_TERM), l(&PIPE_BYTES), sent_proc, sent_thr, mism
    )
}

// ---- plugin loading ------------------------------------------------------------

struct Loaded {
    vt: Vtable,
    path: String,
    api: PdStr,
    rustc: PdStr,
    pv: PdStr,
}

fn check_str(o: &Opts, s: PdStr, what: &str) -> PdStr {
    if s.data.is_null() && s.len != 0 {
        log(
            "ERROR",
            &format!("plugin \"{}\": {}() returned a PdStr with NULL data and len {}", o.plugin, what, s.len),
        );
        exit(EX_INTERNAL);
    }
    s
}

/// A Config string as PgDog makes it: PdStr::from(&str), data NULL when empty.
fn alloc_str(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() {
        None
    } else {
        Some(s.as_bytes().to_vec())
    }
}

fn pdstr_of(v: &Option<Vec<u8>>) -> PdStr {
    match v {
        Some(b) => PdStr { data: b.as_ptr(), len: b.len() },
        None => PdStr { data: std::ptr::null(), len: 0 },
    }
}

fn load_plugin(o: &Opts) -> Loaded {
    let t0 = Instant::now();
    let name = &o.plugin;
    // pgdog_plugin::PluginVtable::library: a name with an extension is used
    // as is, else libloading::library_filename(name) = "lib" + name + ".so"
    let path = if std::path::Path::new(name).extension().is_some() {
        name.clone()
    } else {
        format!("lib{name}.so")
    };
    let cpath = CString::new(path.clone()).unwrap_or_else(|_| usage_exit(Some("NUL in plugin name")));
    let h = unsafe { dlopen(cpath.as_ptr(), RTLD_LAZY | RTLD_LOCAL) };
    if h.is_null() {
        let e = unsafe { dlerror() };
        let msg = if e.is_null() { "?".to_string() } else { unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned() };
        log("ERROR", &format!("plugin \"{name}\" failed to load: {msg}"));
        exit(EX_DLOPEN);
    }
    unsafe { dlerror() };
    let sym = unsafe { dlsym(h, c"PGDOG_PLUGIN_VTABLE".as_ptr()) } as *const RawVtable;
    if sym.is_null() {
        log("WARN", &format!("skipping plugin \"{name}\" because its vtable could not be loaded"));
        exit(EX_VTABLE);
    }
    let raw = unsafe { &*sym };
    let nullf = if raw.pgdog_plugin_api_version.is_none() {
        Some("pgdog_plugin_api_version")
    } else if raw.rustc_version.is_none() {
        Some("rustc_version")
    } else if raw.plugin_version.is_none() {
        Some("plugin_version")
    } else if raw.init.is_none() {
        Some("init")
    } else if raw.fini.is_none() {
        Some("fini")
    } else if raw.config.is_none() {
        Some("config")
    } else if raw.route.is_none() {
        Some("route")
    } else if raw.logging_init.is_none() {
        Some("logging_init")
    } else {
        None
    };
    if let Some(f) = nullf {
        log(
            "WARN",
            &format!("skipping plugin \"{name}\" because its vtable could not be loaded (NULL function pointer {f})"),
        );
        exit(EX_VTABLE);
    }
    let vt = Vtable {
        api: raw.pgdog_plugin_api_version.unwrap(),
        rustc: raw.rustc_version.unwrap(),
        pv: raw.plugin_version.unwrap(),
        init: raw.init.unwrap(),
        fini: raw.fini.unwrap(),
        config: raw.config.unwrap(),
        route: raw.route.unwrap(),
        logging_init: raw.logging_init.unwrap(),
    };
    let api = check_str(o, (vt.api)(), "pgdog_plugin_api_version");
    let a = semver_parse(str_bytes(&api));
    let hv = semver_parse(HOST_API_VERSION.as_bytes());
    if a.is_none() || hv.is_none() {
        err_bytes(&[
            b"pgdog-host: WARN: failed to parse plugin API version(s) ('",
            str_bytes(&api),
            format!("' or '{HOST_API_VERSION}'), skipping plugin\n").as_bytes(),
        ]);
    }
    if a.is_none() || hv.is_none() || a != hv {
        err_bytes(&[
            format!("pgdog-host: WARN: skipping plugin \"{name}\" because it was compiled with different plugin API version (").as_bytes(),
            str_bytes(&api),
            b")\n",
        ]);
        exit(EX_API);
    }
    let rustc = check_str(o, (vt.rustc)(), "rustc_version");
    if str_bytes(&rustc) != HOST_RUSTC_VERSION.as_bytes() {
        err_bytes(&[
            format!("pgdog-host: WARN: skipping plugin \"{name}\" because it was compiled with different compiler version (").as_bytes(),
            str_bytes(&rustc),
            b")\n",
        ]);
        exit(EX_RUSTC);
    }
    let mut lvl = alloc_str(&o.log_level);
    let mut cfgp = alloc_str(&o.config);
    let cfg = PdConfig { log_level: pdstr_of(&lvl), log_json: o.log_json, plugin_config: pdstr_of(&cfgp) };
    (vt.logging_init)(cfg);
    (vt.init)();
    log("INFO", &format!("plugin \"{name}\" initialized"));
    let ok = (vt.config)(cfg);
    // PgDog frees the Config strings after loading; make a plugin that kept
    // the pointers see garbage.
    for v in [&mut lvl, &mut cfgp] {
        if let Some(b) = v.as_mut() {
            b.iter_mut().for_each(|x| *x = 0xdd);
            std::hint::black_box(&b);
        }
        *v = None;
    }
    if !ok {
        log("WARN", &format!("plugin {name} failed to load its configuration, skipping"));
        exit(EX_CONFIG);
    }
    let pv = check_str(o, (vt.pv)(), "plugin_version");
    err_bytes(&[
        format!("pgdog-host: INFO: loaded \"{name}\" plugin (v").as_bytes(),
        str_bytes(&pv),
        format!(") [{:.4}ms]\n", t0.elapsed().as_secs_f64() * 1000.0).as_bytes(),
    ]);
    Loaded { vt, path, api, rustc, pv }
}

fn versions_line(o: &Opts, l: &Loaded, prefix: &str) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(format!("{prefix}plugin={} path={} api_version=", o.plugin, l.path).as_bytes());
    v.extend_from_slice(str_bytes(&l.api));
    v.extend_from_slice(b" rustc_version=");
    v.extend_from_slice(str_bytes(&l.rustc));
    v.extend_from_slice(b" plugin_version=");
    v.extend_from_slice(str_bytes(&l.pv));
    v.push(b'\n');
    v
}

// ---- cases ---------------------------------------------------------------------

struct Case {
    id: Vec<u8>,
    shards: u64,
    w: bool,
    t: bool,
    /// has_replicas as passed to route (PgDog: !read_only, i.e. the cluster has a primary)
    r: bool,
    /// has_primary as passed to route (PgDog: !write_only, i.e. the cluster has replicas)
    p: bool,
    /// message kind: b'q' simple Query, b'b' Bind, b'd' Parse/Describe without Bind
    kind: u8,
    sql: CString,
    codes: Vec<i32>,
    params: Vec<PdParameter>,
    _param_bufs: Vec<Vec<u8>>,
    list: *const PdList,
    parse_error: Option<Vec<u8>>,
    /// Some(reason) when PgDog would not call the plugin for this case
    nocall: Option<String>,
    ctx: *mut c_void,
    want: PdRoute,
}

impl Case {
    fn called(&self) -> bool {
        self.parse_error.is_none() && self.nocall.is_none()
    }
}

struct Cases(Vec<Case>);
// The trees and buffers are only read after parsing (PgDog's AST cache).
unsafe impl Send for Cases {}
unsafe impl Sync for Cases {}

struct StaticList(PdList);
unsafe impl Sync for StaticList {}
static STATIC_EMPTY_LIST: StaticList =
    StaticList(PdList { type_: 1, length: 0, max_length: 0, elements: 8 as *mut *mut c_void });

fn case_error(o: &Opts, line: usize, msg: &str) -> ! {
    log("ERROR", &format!("{}:{}: {}", o.casefile.as_deref().unwrap_or(""), line, msg));
    exit(EX_CASES)
}

fn unhex(s: &[u8]) -> Result<Vec<u8>, &'static str> {
    if s.len() % 2 != 0 {
        return Err("odd number of hex digits");
    }
    let hv = |c: u8| -> Option<u8> { (c as char).to_digit(16).map(|d| d as u8) };
    s.chunks(2)
        .map(|p| match (hv(p[0]), hv(p[1])) {
            (Some(h), Some(l)) => Ok(h * 16 + l),
            _ => Err("bad hex digit"),
        })
        .collect()
}

/// One case line (no newline, no '#' line): the Case, or why it is bad.
fn parse_case_line(raw: &[u8]) -> Result<Case, &'static str> {
    let mut line = raw;
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    if line.contains(&0) {
        return Err("NUL byte in line");
    }
    let fld: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
    if fld.len() < 5 {
        return Err("need at least 5 TAB-separated fields");
    }
    if fld[0].is_empty() {
        return Err("empty id");
    }
    let shards = if !fld[1].is_empty() && fld[1].iter().all(|b| b.is_ascii_digit()) {
        std::str::from_utf8(fld[1]).unwrap().parse::<u64>().map_err(|_| "bad shards")?
    } else {
        return Err("bad shards");
    };
    let (mut w, mut t, mut r, mut p, mut up, mut ur) = (false, false, false, false, false, false);
    let mut kind = 0u8;
    if fld[2] != b"-" {
        if fld[2].is_empty() {
            return Err("empty flags (use -)");
        }
        for &c in fld[2] {
            match c {
                b'w' => w = true,
                b't' => t = true,
                b'r' => r = true,
                b'p' => p = true,
                b'P' => up = true,
                b'R' => ur = true,
                b'q' | b'b' | b'd' => {
                    if kind != 0 && kind != c {
                        return Err("more than one message kind (q b d)");
                    }
                    kind = c
                }
                _ => return Err("unknown flag letter (w t q b d P R r p)"),
            }
        }
    }
    if (up || ur) && (r || p) {
        return Err("flags: cluster shape P R and raw arguments r p do not mix");
    }
    if up || ur {
        // PgDog: has_replicas = !read_only (a primary), has_primary = !write_only (replicas)
        r = up;
        p = ur;
    }
    if kind == 0 {
        kind = b'b';
    }
    let sqlb = unhex(fld[3])?;
    let sql = CString::new(sqlb).map_err(|_| "NUL byte in SQL")?;
    let mut codes = Vec::new();
    if fld[4] != b"-" {
        if fld[4].is_empty() {
            return Err("empty format codes (use -)");
        }
        for tok in fld[4].split(|&b| b == b',') {
            if tok.is_empty() || tok.len() >= 32 {
                return Err("bad format code");
            }
            let digits = if tok[0] == b'-' { &tok[1..] } else { tok };
            if digits.is_empty() || !digits.iter().all(|b| b.is_ascii_digit()) {
                return Err("bad format code");
            }
            let v = std::str::from_utf8(tok).unwrap().parse::<i64>().ok();
            match v {
                Some(v) if v >= i32::MIN as i64 && v <= i32::MAX as i64 => codes.push(v as i32),
                _ => return Err("format code out of range"),
            }
        }
    }
    let mut bufs = Vec::new();
    let mut params = Vec::new();
    for f in &fld[5..] {
        if *f == b"~" {
            // PgDog: Parameter::from(None)
            params.push(PdParameter { len: usize::MAX, data: std::ptr::null() });
        } else if f.is_empty() {
            // PgDog: Parameter::from(Some(&[])): data is the slice's first byte, None
            params.push(PdParameter { len: 0, data: std::ptr::null() });
        } else {
            let b = unhex(f)?;
            params.push(PdParameter { len: b.len(), data: b.as_ptr() });
            bufs.push(b); // the heap buffer does not move with the Vec
        }
    }
    if kind == b'q' && (!params.is_empty() || !codes.is_empty()) {
        return Err("a simple Query (q) has no parameters or format codes");
    }
    Ok(Case {
        id: fld[0].to_vec(),
        shards,
        w,
        t,
        r,
        p,
        kind,
        sql,
        codes,
        params,
        _param_bufs: bufs,
        list: std::ptr::null(),
        parse_error: None,
        nocall: None,
        ctx: std::ptr::null_mut(),
        want: PdRoute { shard: 0, read_write: 0 },
    })
}

fn read_cases(o: &Opts) -> Vec<Case> {
    let path = o.casefile.as_deref().unwrap();
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            let e = std::io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0));
            let msg = e.to_string();
            // strerror's text, without Rust's " (os error N)"
            let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
            log("ERROR", &format!("{path}: {msg}"));
            exit(EX_CASES);
        }
    };
    let mut cases = Vec::new();
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.last() == Some(&b'\n') {
        lines.pop();
    }
    for (n, raw) in lines.iter().enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        match parse_case_line(line) {
            Ok(c) => cases.push(c),
            Err(m) => case_error(o, n + 1, m),
        }
    }
    cases
}

fn layout_check() {
    let bad = unsafe { vh_layout_check() };
    if bad != 0 {
        log("ERROR", &format!("libpg_query headers do not have the PG18 layout ({bad:#x})"));
        exit(EX_INTERNAL);
    }
}

/// Parses the case's SQL and decides, as PgDog v0.1.54 with its default
/// settings (query_parser auto, pooler_mode transaction, two_pc off) would,
/// whether the plugin is called (PGDOG.md section 1).
fn prepare_case(c: &mut Case) {
    // Cluster::router_needed: a one-shard cluster that is read-only (no
    // primary: has_replicas false) or write-only (no replicas: has_primary
    // false) does not need the router; PgDog parses only when its
    // regex_parser sees session control at the start of the text.
    let one_shard_no_router = c.shards == 1 && (!c.r || !c.p);
    if one_shard_no_router && unsafe { vh_regex_parser_match(c.sql.as_ptr()) } == 0 {
        c.nocall = Some(if !c.r {
            "PgDog does not parse for a one-shard cluster without a primary".into()
        } else {
            "PgDog does not parse for a one-shard cluster without replicas".into()
        });
        return;
    }
    let mut err: *mut c_char = std::ptr::null_mut();
    let l = unsafe { vh_parse(c.sql.as_ptr(), &mut err, &mut c.ctx) };
    if !err.is_null() {
        let mut m = unsafe { CStr::from_ptr(err) }.to_bytes().to_vec();
        for b in m.iter_mut() {
            if *b == b'\t' || *b == b'\n' || *b == b'\r' {
                *b = b' ';
            }
        }
        c.parse_error = Some(m);
        unsafe { vh_free_error(err) };
        return;
    }
    c.list = if l.is_null() { &STATIC_EMPTY_LIST.0 } else { l };
    if c.kind == b'd' {
        c.nocall = Some("PgDog does not call plugins for a Parse or Describe without Bind".into());
        return;
    }
    let why = unsafe { vh_nocall_reason(c.list as *const c_void) };
    if !why.is_null() {
        c.nocall = Some(unsafe { CStr::from_ptr(why) }.to_string_lossy().into_owned());
    }
}

fn parse_cases(cases: &mut [Case]) {
    layout_check();
    for c in cases.iter_mut() {
        prepare_case(c);
    }
}

fn route_case(vt: &Vtable, c: &Case) -> PdRoute {
    // pgdog_plugin::Parameters::as_raw: slice.first(), NULL when empty
    let rp = PdRawParameters {
        params: if c.params.is_empty() { std::ptr::null() } else { c.params.as_ptr() },
        params_len: c.params.len(),
        format_codes: if c.codes.is_empty() { std::ptr::null() } else { c.codes.as_ptr() },
        format_codes_len: c.codes.len(),
    };
    (vt.route)(c.shards, c.r, c.p, c.t, c.w, c.list, rp)
}

/// TAB, CR, LF and backslash as \t \r \n \\ (an ErrorResponse detail on one line).
fn escape_detail(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len());
    for &c in b {
        match c {
            b'\t' => v.extend_from_slice(b"\\t"),
            b'\n' => v.extend_from_slice(b"\\n"),
            b'\r' => v.extend_from_slice(b"\\r"),
            b'\\' => v.extend_from_slice(b"\\\\"),
            _ => v.push(c),
        }
    }
    v
}

fn blocked_error(plugin: &str) -> String {
    format!("42601 query is blocked by plugin \"{plugin}\"")
}

fn baseline(vt: &Vtable, cases: &mut [Case], print: bool, plugin: &str) {
    let mut out = std::io::stdout().lock();
    for c in cases.iter_mut() {
        if let Some(e) = &c.parse_error {
            if print {
                let _ = out.write_all(&c.id);
                let _ = out.write_all(b"\tPARSE_ERROR\t");
                let _ = out.write_all(e);
                let _ = out.write_all(b"\n");
            }
            continue;
        }
        if let Some(why) = &c.nocall {
            if print {
                let _ = out.write_all(&c.id);
                let _ = writeln!(out, "\tNOCALL\t{why}");
            }
            continue;
        }
        c.want = route_case(vt, c);
        if print {
            let _ = out.write_all(&c.id);
            let _ = write!(out, "\t{}\t{}", c.want.shard, c.want.read_write);
            if c.want.shard == -3 {
                let _ = write!(out, "\t{}\t", blocked_error(plugin));
                let _ = out.write_all(&escape_detail(c.sql.as_bytes()));
            }
            let _ = out.write_all(b"\n");
        }
    }
    let _ = out.flush();
}

// ---- serve -----------------------------------------------------------------------

/// The answer PgDog acts on (query/mod.rs after QueryParser::plugins):
/// pgdog_plugin's Shard/ReadWrite conversions, then the one-shard override.
fn serve_answer(c: &Case, r: PdRoute, plugin: &str) -> String {
    let rw = match r.read_write {
        0 => "write",
        1 => "read",
        _ => "unknown",
    };
    let shard = match r.shard {
        -3 => return format!("BLOCKED\t{rw}\t{}", blocked_error(plugin)),
        _ if c.shards == 1 => "0".to_string(),
        n if n >= 0 => n.to_string(),
        -1 => "ALL".to_string(),
        _ => "UNKNOWN".to_string(),
    };
    format!("{shard}\t{rw}")
}

fn serve(vt: &Vtable, plugin: &str) -> i32 {
    use std::io::BufRead;
    layout_check();
    let stdin = std::io::stdin();
    let mut inp = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        match inp.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                log("ERROR", &format!("serve: reading stdin: {e}"));
                return EX_INTERNAL;
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        n += 1;
        let mut ans: Vec<u8> = Vec::new();
        match parse_case_line(&line) {
            Err(m) => {
                let id = line.split(|&b| b == b'\t').next().unwrap_or(b"");
                ans.extend_from_slice(if id.is_empty() { b"-" } else { id });
                ans.extend_from_slice(format!("\tBAD_CASE\t{m}").as_bytes());
            }
            Ok(mut c) => {
                prepare_case(&mut c);
                ans.extend_from_slice(&c.id);
                if let Some(e) = &c.parse_error {
                    ans.extend_from_slice(b"\tPARSE_ERROR\t");
                    ans.extend_from_slice(e);
                } else if let Some(why) = &c.nocall {
                    ans.extend_from_slice(format!("\tNOCALL\t{why}").as_bytes());
                } else {
                    let r = route_case(vt, &c);
                    ans.extend_from_slice(format!("\t{}", serve_answer(&c, r, plugin)).as_bytes());
                }
                unsafe { vh_free(c.ctx) };
            }
        }
        ans.push(b'\n');
        if out.write_all(&ans).and_then(|_| out.flush()).is_err() {
            log("ERROR", "serve: stdout closed");
            return EX_INTERNAL;
        }
    }
    log("INFO", &format!("serve: stdin closed after {n} cases"));
    EX_OK
}

// ---- worker threads -------------------------------------------------------------

struct Worker {
    tid: AtomicI64,
    inside: AtomicBool,
    routes: AtomicU64,
    mismatches: AtomicU64,
    elapsed_ns: AtomicU64,
}

static STOP: AtomicBool = AtomicBool::new(false);
static OUT_MU: Mutex<()> = Mutex::new(());

fn report_mismatch(idx: usize, mism: u64, rep: i64, c: &Case, got: PdRoute) {
    if mism > 20 {
        return;
    }
    let _g = OUT_MU.lock();
    let mut e = Vec::new();
    e.extend_from_slice(format!("MISMATCH\tthread={idx}\trep={rep}\t").as_bytes());
    e.extend_from_slice(&c.id);
    e.extend_from_slice(
        format!(
            "\tgot={},{}\twant={},{}\n",
            got.shard, got.read_write, c.want.shard, c.want.read_write
        )
        .as_bytes(),
    );
    err_bytes(&[&e]);
}

struct Shared {
    vt: Vtable,
    cases: Cases,
    mode: String,
    repeat: i64,
    seconds: f64,
    workers: Vec<Worker>,
}

fn worker_main(sh: &Shared, idx: usize) {
    let me = register_thread();
    let w = &sh.workers[idx];
    w.tid.store(gettid(), Ordering::SeqCst);
    let t0 = Instant::now();
    let mut routes = 0u64;
    let mut mism = 0u64;
    let cases = &sh.cases.0;
    if sh.mode == "route" {
        for rep in 0..sh.repeat {
            for c in cases.iter().filter(|c| c.called()) {
                let r = route_case(&sh.vt, c);
                routes += 1;
                if r != c.want {
                    mism += 1;
                    report_mismatch(idx, mism, rep, c, r);
                }
            }
        }
    } else {
        let load = sh.mode == "load";
        let mut k = 0u64;
        let mut rep = 0i64;
        while !STOP.load(Ordering::Relaxed) {
            for c in cases.iter().filter(|c| c.called()) {
                w.inside.store(true, Ordering::Relaxed);
                let r = route_case(&sh.vt, c);
                w.inside.store(false, Ordering::Relaxed);
                routes += 1;
                if r != c.want {
                    mism += 1;
                    report_mismatch(idx, mism, rep, c, r);
                }
                k += 1;
                if load && (k & 63) == 0 && t0.elapsed().as_secs_f64() >= sh.seconds {
                    STOP.store(true, Ordering::SeqCst);
                }
            }
            rep += 1;
            if load && t0.elapsed().as_secs_f64() >= sh.seconds {
                STOP.store(true, Ordering::SeqCst);
            }
        }
    }
    w.elapsed_ns.store(t0.elapsed().as_nanos() as u64, Ordering::SeqCst);
    w.routes.store(routes, Ordering::SeqCst);
    w.mismatches.store(mism, Ordering::SeqCst);
    unregister_thread(me);
}

fn start_workers(sh: &Arc<Shared>) -> Vec<std::thread::JoinHandle<()>> {
    (0..sh.workers.len())
        .map(|i| {
            let s = Arc::clone(sh);
            std::thread::Builder::new().spawn(move || worker_main(&s, i)).unwrap_or_else(|_| {
                log("ERROR", "pthread_create failed");
                exit(EX_INTERNAL)
            })
        })
        .collect()
}

fn join_workers(sh: &Shared, hs: Vec<std::thread::JoinHandle<()>>) -> (u64, u64) {
    for h in hs {
        let _ = h.join();
    }
    let r = sh.workers.iter().map(|w| w.routes.load(Ordering::SeqCst)).sum();
    let m = sh.workers.iter().map(|w| w.mismatches.load(Ordering::SeqCst)).sum();
    (r, m)
}

// ---- storm -----------------------------------------------------------------------

fn storm_main(sh: &Shared, storm_us: i64) -> (u64, u64) {
    let me = register_thread();
    let pid = unsafe { getpid() };
    // PgDog installs its handlers at startup, before it serves; signals come
    // while it serves. vecshard adds SA_ONSTACK to new handlers within 10 ms,
    // so the storm starts 100 ms after the handlers are installed.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let t0 = Instant::now();
    let pause = std::time::Duration::from_micros(storm_us as u64);
    let (mut sp, mut st) = (0u64, 0u64);
    let n = sh.workers.len();
    let mut i = 0usize;
    while t0.elapsed().as_secs_f64() < sh.seconds {
        unsafe { kill(pid, SIGHUP) };
        sp += 1;
        let w = &sh.workers[i % n];
        let tid = w.tid.load(Ordering::SeqCst);
        if tid != 0 {
            let mut spin = 0;
            while spin < 2000 && !w.inside.load(Ordering::Relaxed) {
                spin += 1;
                std::hint::spin_loop();
            }
            if w.inside.load(Ordering::Relaxed) {
                unsafe { syscall(SYS_TGKILL, pid as c_long, tid as c_long, SIGHUP as c_long) };
                st += 1;
            }
        }
        if i % 200 == 100 {
            unsafe { kill(pid, SIGINT) };
            sp += 1;
        }
        if i % 200 == 199 {
            unsafe { kill(pid, SIGTERM) };
            sp += 1;
        }
        i += 1;
        if storm_us > 0 {
            std::thread::sleep(pause);
        }
    }
    unregister_thread(me);
    (sp, st)
}

// ---- main ----------------------------------------------------------------------------

fn main() {
    let me = register_thread();
    let o = parse_args();
    let check = o.mode == "check";
    let mut cases = Vec::new();
    if o.mode == "serve" {
        let l = load_plugin(&o);
        err_bytes(&[&versions_line(&o, &l, "pgdog-host: INFO: versions: ")]);
        let rc = serve(&l.vt, &o.plugin);
        (l.vt.fini)();
        unregister_thread(me);
        exit(rc);
    }
    if !check {
        cases = read_cases(&o);
        parse_cases(&mut cases);
    }
    let l = load_plugin(&o);
    err_bytes(&[&versions_line(&o, &l, "pgdog-host: INFO: versions: ")]);
    if check {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&versions_line(&o, &l, "check: "));
        let _ = out.flush();
        (l.vt.fini)();
        exit(EX_OK);
    }
    let (drainer, rfd) = install_handlers(&o);
    let routable = cases.iter().filter(|c| c.called()).count() as u64;
    let mut routes: u64;
    let mut mism = 0u64;
    let (mut sent_proc, mut sent_thr) = (0u64, 0u64);
    baseline(&l.vt, &mut cases, o.mode == "route", &o.plugin);
    if o.mode != "route" && routable == 0 {
        log("ERROR", "no routable case");
        exit(EX_CASES);
    }
    let nthreads = o.threads as usize;
    let sh = Arc::new(Shared {
        vt: l.vt,
        cases: Cases(cases),
        mode: o.mode.clone(),
        repeat: o.repeat,
        seconds: o.seconds,
        workers: (0..nthreads)
            .map(|_| Worker {
                tid: AtomicI64::new(0),
                inside: AtomicBool::new(false),
                routes: AtomicU64::new(0),
                mismatches: AtomicU64::new(0),
                elapsed_ns: AtomicU64::new(0),
            })
            .collect(),
    });
    match o.mode.as_str() {
        "route" => {
            routes = routable;
            if nthreads > 0 {
                let hs = start_workers(&sh);
                let (r2, m2) = join_workers(&sh, hs);
                eprintln!("route: threads={} repeat={} routes={} mismatches={}", nthreads, o.repeat, r2, m2);
                routes += r2;
                mism = m2;
            }
        }
        "load" => {
            let t0 = Instant::now();
            let hs = start_workers(&sh);
            let (r, m) = join_workers(&sh, hs);
            routes = r;
            mism = m;
            let el = t0.elapsed().as_secs_f64();
            let mut out = std::io::stdout().lock();
            for (i, w) in sh.workers.iter().enumerate() {
                let we = w.elapsed_ns.load(Ordering::SeqCst) as f64 / 1e9;
                let wr = w.routes.load(Ordering::SeqCst);
                let _ = writeln!(
                    out,
                    "load: thread={} calls={} calls_per_sec={:.0}",
                    i,
                    wr,
                    if we > 0.0 { wr as f64 / we } else { 0.0 }
                );
            }
            let _ = writeln!(
                out,
                "load: threads={} seconds={:.1} calls={} calls_per_sec={:.0} mismatches={}",
                nthreads,
                el,
                routes,
                if el > 0.0 { routes as f64 / el } else { 0.0 },
                mism
            );
            let _ = out.flush();
        }
        _ => {
            let hs = start_workers(&sh);
            let s2 = Arc::clone(&sh);
            let storm_us = o.storm_us;
            let st = std::thread::Builder::new().spawn(move || storm_main(&s2, storm_us)).unwrap_or_else(|_| {
                log("ERROR", "pthread_create failed");
                exit(EX_INTERNAL)
            });
            let (a, b) = st.join().unwrap_or((0, 0));
            sent_proc = a;
            sent_thr = b;
            STOP.store(true, Ordering::SeqCst);
            let (r, m) = join_workers(&sh, hs);
            routes = r;
            mism = m;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    (sh.vt.fini)();
    DRAIN_STOP.store(true, Ordering::SeqCst);
    let _ = drainer.join();
    drain_pipe(rfd);
    let line = signal_counts(routes, mism, sent_proc, sent_thr);
    if o.mode == "signals" {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    } else {
        err_bytes(&[line.as_bytes()]);
    }
    let rc = if mism > 0 || C_FOREIGN.load(Ordering::SeqCst) > 0 { EX_FAIL } else { EX_OK };
    for c in sh.cases.0.iter() {
        unsafe { vh_free(c.ctx) };
    }
    unregister_thread(me);
    exit(rc);
}
