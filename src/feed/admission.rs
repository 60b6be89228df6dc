//! Who may take a feed connection (issue 24), for `vrev serve` (the NinjaScript publisher applies
//! the same rules in C#): a handshake completed within a few seconds, at most `max_clients`
//! connections in all and `max_per_ip` from one address, no browser `Origin` unless allowed,
//! and, when a shared token is set, the token as `?token=` or an `X-Vrev-Token` header.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The header `run` and `record` send the token in.
pub const TOKEN_HEADER: &str = "X-Vrev-Token";

/// Connection caps, shared by every accepted socket.
#[derive(Debug)]
pub struct Slots {
    max_total: usize,
    max_per_ip: usize,
    held: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One connection's place; released when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    ip: IpAddr,
}

impl Slots {
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max_total,
            max_per_ip,
            held: Mutex::new((0, HashMap::new())),
        })
    }

    /// A place for a connection from `ip`, or why there is none.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, String> {
        let mut g = self
            .held
            .lock()
            .map_err(|_| "internal: slots poisoned".to_string())?;
        let (total, per_ip) = &mut *g;
        if *total >= self.max_total {
            return Err(format!(
                "refused: {} connections already (the cap for all addresses)",
                self.max_total
            ));
        }
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err(format!(
                "refused: {} connections from {ip} already (the cap per address)",
                self.max_per_ip
            ));
        }
        *n += 1;
        *total += 1;
        Ok(Slot {
            slots: self.clone(),
            ip,
        })
    }

    /// Connections held now.
    pub fn held(&self) -> usize {
        self.held.lock().map(|g| g.0).unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut g) = self.slots.held.lock() {
            g.0 = g.0.saturating_sub(1);
            if let Some(n) = g.1.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    g.1.remove(&self.ip);
                }
            }
        }
    }
}

/// Why an upgrade request may not connect (`None`: it may). `origin`: the request's `Origin`
/// header (browsers always send one; vrev's and NinjaTrader's clients never do); `query`: the
/// request URI's query; `header_token`: the `X-Vrev-Token` header.
pub fn refusal(
    origin: Option<&str>,
    query: Option<&str>,
    header_token: Option<&str>,
    allowed_origins: &[String],
    token: Option<&str>,
) -> Option<(u16, String)> {
    if let Some(o) = origin {
        if !allowed_origins
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(o))
        {
            return Some((
                403,
                format!("browser origin {o:?} is not allowed (--allow-origin)"),
            ));
        }
    }
    if let Some(want) = token.filter(|t| !t.is_empty()) {
        let from_query = query.and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("token="))
                .map(percent_decode)
        });
        let given = header_token.map(str::to_string).or(from_query);
        let ok = given.is_some_and(|g| same(g.as_bytes(), want.as_bytes()));
        if !ok {
            return Some((401, "missing or wrong feed token".into()));
        }
    }
    None
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url` with the value of any `token=` replaced by `***`, for every line a person or a file sees.
pub fn redact_url(url: &str) -> String {
    let Some((head, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let q: Vec<String> = query
        .split('&')
        .map(|kv| {
            if kv.starts_with("token=") {
                "token=***".to_string()
            } else {
                kv.to_string()
            }
        })
        .collect();
    format!("{head}?{}", q.join("&"))
}

/// The warning for a listener bound beyond loopback, naming the exposure; `None` on loopback.
pub fn exposure_warning(ip: IpAddr, token: bool) -> Option<String> {
    if ip.is_loopback() {
        return None;
    }
    let who = if ip.is_unspecified() {
        "every network this machine is on (all interfaces)".to_string()
    } else {
        format!("the network of {ip}")
    };
    Some(format!(
        "WARNING listening on {ip}: any machine on {who} can connect and read the feed{}",
        if token {
            " (a client must send the shared token)"
        } else {
            "; set a shared token (--token, [feed] token) or bind 127.0.0.1"
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_address_and_release_on_drop() {
        let s = Slots::new(3, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let x = s.take(a).unwrap();
        let _y = s.take(a).unwrap();
        assert!(s.take(a).unwrap_err().contains("from 127.0.0.1"));
        let _z = s.take(b).unwrap();
        assert!(s.take(b).unwrap_err().contains("for all addresses"));
        drop(x);
        assert_eq!(s.held(), 2);
        s.take(a).unwrap();
    }

    #[test]
    fn origins_and_tokens() {
        let none: Vec<String> = vec![];
        assert!(refusal(None, None, None, &none, None).is_none());
        let r = refusal(Some("https://evil.example"), None, None, &none, None).unwrap();
        assert_eq!(r.0, 403);
        let allowed = vec!["http://localhost:8080".to_string()];
        assert!(refusal(Some("http://localhost:8080"), None, None, &allowed, None).is_none());
        assert_eq!(refusal(None, None, None, &none, Some("s3")).unwrap().0, 401);
        assert_eq!(
            refusal(None, Some("token=bad"), None, &none, Some("s3"))
                .unwrap()
                .0,
            401
        );
        assert!(refusal(None, Some("a=1&token=s3"), None, &none, Some("s3")).is_none());
        assert!(refusal(None, Some("token=a%2Bb"), None, &none, Some("a+b")).is_none());
        assert!(refusal(None, None, Some("s3"), &none, Some("s3")).is_none());
        assert_eq!(
            redact_url("ws://h:1/?token=s3&x=1"),
            "ws://h:1/?token=***&x=1"
        );
        assert!(exposure_warning("127.0.0.1".parse().unwrap(), false).is_none());
        let w = exposure_warning("0.0.0.0".parse().unwrap(), false).unwrap();
        assert!(w.contains("all interfaces") && w.contains("token"), "{w}");
    }
}
