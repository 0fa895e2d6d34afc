//! `cf-gateway-emulator`: parse flags, start the server, print one JSON line.

use std::io::Write;

use cf_gateway_emulator::{
    start, Config, RateLimit, DEFAULT_EMAIL, DEFAULT_KEY, DEFAULT_READ_ONLY_TOKEN, DEFAULT_TOKEN,
};

const USAGE: &str =
    "usage: cf-gateway-emulator [--host 127.0.0.1] [--port 0] [--token T] [--read-only-token T] \
[--email E] [--key K] [--account ID] [--rate-limit N/SECS|N/MSms] [--activate-ms N] [--deactivate-ms N] \
[--seed fleet|demo|empty]";

fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut cfg = Config::default();
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        // Accept both `--flag value` and `--flag=value`.
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))?
            }
        };
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: not a non-negative integer: {v:?}"))
        };
        match name {
            "--host" => cfg.host = value,
            "--port" => {
                cfg.port = value
                    .parse()
                    .map_err(|_| format!("--port: bad port {value:?}"))?
            }
            "--token" => cfg.token = value,
            "--read-only-token" => cfg.read_only_token = value,
            "--email" => cfg.email = value,
            "--key" => cfg.key = value,
            "--account" => {
                if !cf_gateway_emulator::util::is_account_id(&value) {
                    return Err("--account: 1..32 ASCII alphanumerics".into());
                }
                cfg.account = value
            }
            "--rate-limit" => {
                // N/SECS (300) or N/MSms (500ms): headers still say whole seconds, rounded up.
                let (n, w) = value
                    .split_once('/')
                    .ok_or("--rate-limit: expected N/SECS or N/MSms")?;
                let limit = num(n)?;
                let window_ms = match w.strip_suffix("ms") {
                    Some(ms) => num(ms)?,
                    None => num(w.strip_suffix('s').unwrap_or(w))?.saturating_mul(1000),
                };
                if window_ms == 0 || window_ms > u64::MAX / 1000 {
                    return Err("--rate-limit: the window must be > 0".into());
                }
                cfg.rate_limit = RateLimit { limit, window_ms };
            }
            "--seed" => {
                if !matches!(value.as_str(), "fleet" | "demo" | "empty") {
                    return Err("--seed: fleet, demo or empty".into());
                }
                cfg.seed = value
            }
            "--activate-ms" => cfg.activate_ms = num(&value)?,
            "--deactivate-ms" => cfg.deactivate_ms = num(&value)?,
            other => return Err(format!("unknown flag {other}")),
        }
        i += 1;
    }
    if cfg.token.is_empty()
        || cfg.read_only_token.is_empty()
        || cfg.key.is_empty()
        || cfg.email.is_empty()
    {
        return Err("credentials must not be empty".into());
    }
    Ok(cfg)
}

fn shown(value: &str, default: &str) -> String {
    if value == default {
        format!("{value} (demo default)")
    } else {
        "(custom, not shown)".into()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(if e.is_empty() { 0 } else { 2 });
        }
    };
    let handle = match start(cfg.clone()) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: cannot listen on {}:{}: {e}", cfg.host, cfg.port);
            std::process::exit(1);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", handle.startup_json());
        let _ = out.flush();
    }
    eprintln!("cf-gateway-emulator listening");
    eprintln!("  API base:        {}", handle.url());
    eprintln!("  control API:     {}/__emulator/", handle.origin());
    eprintln!("  account id:      {}", cfg.account);
    eprintln!("  API token:       {}", shown(&cfg.token, DEFAULT_TOKEN));
    eprintln!(
        "  read-only token: {}",
        shown(&cfg.read_only_token, DEFAULT_READ_ONLY_TOKEN)
    );
    eprintln!("  email:           {}", shown(&cfg.email, DEFAULT_EMAIL));
    eprintln!("  global API key:  {}", shown(&cfg.key, DEFAULT_KEY));
    eprintln!(
        "  rate limit:      {} per {} ms; activate {} ms, deactivate {} ms",
        cfg.rate_limit.limit, cfg.rate_limit.window_ms, cfg.activate_ms, cfg.deactivate_ms
    );
    eprintln!("  seeded certificates ({} seed):", cfg.seed);
    for c in handle.certificates(&cfg.account) {
        let s = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        eprintln!(
            "    {}  {:<18} type={:<15} in_use={:<5} expires={}",
            s("id"),
            s("binding_status"),
            s("type"),
            c.get("in_use").and_then(|v| v.as_bool()).unwrap_or(false),
            s("expires_on").get(..10).unwrap_or("")
        );
    }
    loop {
        std::thread::park();
    }
}
