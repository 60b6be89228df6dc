//! The dashboard's one frame, drawn from a [`DeskState`] and nothing else (tested with
//! ratatui's `TestBackend`).

use super::state::{DeskState, Nt8Pane};
use crate::market::format::money;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

/// `1h 05m`, `4m 10s`, `35 s`.
pub fn countdown(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 86_400 {
        format!("{}d {:02}h", s / 86_400, s / 3600 % 24)
    } else if s >= 3600 {
        format!("{}h {:02}m", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

fn et_hhmm(utc: i64) -> String {
    let stamp = crate::market::time::MarketClock::exchange().stamp(utc);
    let f = stamp.format();
    // `yyyy-MM-dd HH:mm:ss` → `HH:mm`
    f.get(11..16).unwrap_or(&f).to_string()
}

fn ticks(v: Option<f64>) -> String {
    v.map(crate::cli::desk::reconcile::tick_text)
        .unwrap_or_else(|| "—".into())
}

fn bold(s: impl Into<String>) -> Span<'static> {
    Span::styled(s.into(), Style::default().add_modifier(Modifier::BOLD))
}

fn pane(title: &str) -> Block<'static> {
    Block::bordered().title(Span::styled(
        format!(" {title} "),
        Style::default().add_modifier(Modifier::BOLD),
    ))
}

/// Draws the whole dashboard.
pub fn draw(frame: &mut Frame, s: &DeskState) {
    // The NinjaTrader pane grows with the day's trades (header, rows, total, borders).
    let nt8_rows = match &s.nt8 {
        Nt8Pane::Trades(t) => t.rows.len().max(1) as u16 + 4,
        _ => 7,
    };
    let [header, top, middle, nt8, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Min(8),
        Constraint::Length(nt8_rows.clamp(5, 16)),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, header, s);
    let [feed, windows] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    draw_feed(frame, feed, s);
    draw_windows(frame, windows, s);
    let [today, position] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(middle);
    draw_today(frame, today, s);
    draw_position(frame, position, s);
    draw_nt8(frame, nt8, s);
    draw_footer(frame, footer, s);
}

fn draw_header(frame: &mut Frame, area: Rect, s: &DeskState) {
    let switch = match &s.kill_switch {
        Some(note) => Span::styled(
            format!(" KILL SWITCH ON: new entries refused ({note}) "),
            Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        ),
        None => Span::styled(" accepting signals ", Style::default().fg(Color::Green)),
    };
    let line = Line::from(vec![
        bold(" vrev run "),
        Span::raw(format!("{}  ", s.url)),
        switch,
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_feed(frame: &mut Frame, area: Rect, s: &DeskState) {
    let f = &s.feed;
    let mut lines = vec![match &f.connected {
        Some(p) => Line::from(vec![
            Span::styled("connected", Style::default().fg(Color::Green)),
            Span::raw(format!(
                " · {p} · for {}",
                countdown(f.connected_for as i64)
            )),
        ]),
        None => Line::from(Span::styled(
            "DISCONNECTED (reconnecting)",
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
    }];
    lines.push(Line::from(format!(
        "bars today {} (this run {})",
        f.bars_today, f.bars_run
    )));
    lines.push(Line::from(match f.last_bar {
        Some(t) => format!("last bar {} ET, {} ago", et_hhmm(t), countdown(s.now - t)),
        None => "last bar: none yet".into(),
    }));
    lines.push(Line::from(match f.latency {
        Some((p50, p99)) => format!(
            "frame→file p50 {p50} µs · p99 {p99} µs (n={})",
            f.latency_count
        ),
        None => "frame→file: n/a (no signal yet)".into(),
    }));
    lines.push(Line::from(format!(
        "reconnects {} · refused frames {}",
        f.reconnects, f.refused
    )));
    if f.refused > 0 {
        lines.push(Line::from(format!("  {}", f.refused_detail)));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(pane("Feed"))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_windows(frame: &mut Frame, area: Rect, s: &DeskState) {
    let mut lines: Vec<Line> = Vec::new();
    for (i, w) in s.windows.iter().enumerate() {
        let mark = if w.open { "● " } else { "○ " };
        let mut spans = vec![
            Span::raw(mark),
            bold(format!("{:<10}", w.name)),
            Span::raw(format!(" {} ET  ", w.hours)),
            Span::styled(w.profile.clone(), Style::default().fg(Color::Cyan)),
        ];
        if let Some(ch) = &s.choosing {
            if ch.window == i {
                let to = s.profiles.get(ch.profile).cloned().unwrap_or_default();
                spans.push(Span::styled(
                    format!("  → {to}?"),
                    Style::default()
                        .fg(Color::Black)
                        .bg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                ));
            }
        }
        if let Some(c) = &w.configured {
            spans.push(Span::styled(
                format!(" (override; config: {c})"),
                Style::default().fg(Color::Yellow),
            ));
        }
        lines.push(Line::from(spans));
    }
    if s.windows.is_empty() {
        lines.push(Line::from("no session windows in the config"));
    }
    let open: Vec<&str> = s
        .windows
        .iter()
        .filter(|w| w.open)
        .map(|w| w.name.as_str())
        .collect();
    lines.push(Line::from(if open.is_empty() {
        "open now: none".to_string()
    } else {
        format!("open now: {}", open.join(", "))
    }));
    lines.push(Line::from(match &s.next_window {
        Some(n) => format!(
            "next: {} ({}) opens in {} at {} ET",
            n.name,
            n.profile,
            countdown(n.starts - s.now),
            et_hhmm(n.starts)
        ),
        None => "next: none".into(),
    }));
    frame.render_widget(
        Paragraph::new(lines)
            .block(pane("Windows"))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_today(frame: &mut Frame, area: Rect, s: &DeskState) {
    let t = &s.today;
    let refused: u64 = t.refusals.iter().map(|(_, n)| n).sum();
    let day = t
        .day
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "—".into());
    let mut lines = vec![Line::from(vec![
        Span::raw(format!("trading day {day}: ")),
        bold(format!("signals {}", t.signals)),
        Span::raw(format!(" · refusals {refused}")),
    ])];
    if !t.refusals.is_empty() {
        let by: Vec<String> = t.refusals.iter().map(|(r, n)| format!("{r} {n}")).collect();
        lines.push(Line::from(format!("  by reason: {}", by.join(", "))));
    }
    lines.push(Line::from(Span::styled(
        "last events:",
        Style::default().add_modifier(Modifier::UNDERLINED),
    )));
    if t.events.is_empty() {
        lines.push(Line::from("  none yet"));
    }
    for e in t.events.iter().rev() {
        let colour = match e.kind {
            "signal" => Color::Green,
            "refusal" => Color::Yellow,
            "error" | "halt" => Color::Red,
            "reload" => Color::Cyan,
            _ => Color::Reset,
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{} ", e.time)),
            Span::styled(format!("{:<7} ", e.kind), Style::default().fg(colour)),
            Span::raw(e.text.clone()),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).block(pane("Today")), area);
}

fn draw_position(frame: &mut Frame, area: Rect, s: &DeskState) {
    let p = &s.position;
    let mut lines: Vec<Line> = Vec::new();
    if p.open.is_empty() {
        lines.push(Line::from("flat: no open shadow position"));
    }
    for o in &p.open {
        lines.push(Line::from(vec![
            bold(format!("{} {}", o.side, o.contracts)),
            Span::raw(match o.entry {
                Some(e) => format!(" @ {e:.2}"),
                None => " entry pending (next bar's open)".into(),
            }),
            Span::raw(format!("  ({})", o.profile)),
        ]));
        let moved = if o.stop_rule == "initial" {
            String::new()
        } else {
            format!(" ({}; was {:.2})", o.stop_rule, o.initial_stop)
        };
        lines.push(Line::from(format!(
            "  stop {:.2}{moved} · target {:.2}",
            o.stop, o.target
        )));
        if let Some(pnl) = o.open_pnl {
            let colour = if pnl < 0.0 { Color::Red } else { Color::Green };
            lines.push(Line::from(vec![
                Span::raw("  open P&L "),
                Span::styled(money(pnl), Style::default().fg(colour)),
                Span::raw(match o.last_price {
                    Some(px) => format!(" at {px:.2}"),
                    None => String::new(),
                }),
            ]));
        }
        lines.push(Line::from(format!("  {}", o.signal_id)));
    }
    lines.push(Line::from(vec![
        Span::raw("today's shadow P&L "),
        bold(money(p.today_pnl)),
        Span::raw(format!(" ({} closed)", p.closed_today)),
    ]));
    frame.render_widget(
        Paragraph::new(lines)
            .block(pane("Position (shadow)"))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_nt8(frame: &mut Frame, area: Rect, s: &DeskState) {
    let lines: Vec<Line> = match &s.nt8 {
        Nt8Pane::NotConfigured => vec![
            Line::from("[nt8] is not set, so the auto-trader's real trades cannot be shown. Add to config.toml:"),
            Line::from("  [nt8]"),
            Line::from("  documents_dir = 'C:\\Users\\me\\Documents'   # NinjaTrader's Documents folder"),
            Line::from("  account = \"Sim101\""),
            Line::from("then restart `vrev run`: the pane reads <documents_dir>/vrev/nt8/trades_<account>.csv"),
        ],
        Nt8Pane::NoFile(p) => vec![
            Line::from("no real trade yet:"),
            Line::from(format!("  {} does not exist (the auto-trader writes it at its first exit)", p.display())),
        ],
        Nt8Pane::Error(e) => vec![Line::from(Span::styled(
            format!("cannot read the trade log: {e}"),
            Style::default().fg(Color::Red),
        ))],
        Nt8Pane::Trades(t) => {
            let mut lines = vec![Line::from(Span::styled(
                format!(
                    "{:<36} {:<4} {:>3} {:<11} {:>12} {:>12} {:>11} {:>10}",
                    "signal", "side", "qty", "exit", "live P&L", "shadow P&L", "difference", "ticks e/x"
                ),
                Style::default().add_modifier(Modifier::UNDERLINED),
            ))];
            if t.rows.is_empty() {
                lines.push(Line::from(format!(
                    "no real trade today ({} in {})",
                    t.in_file,
                    t.path.display()
                )));
            }
            for r in &t.rows {
                let diff = match (r.unknown, r.shadow_pnl) {
                    (true, _) => "no vrev signal".to_string(),
                    (false, Some(sh)) => money(r.live_pnl - sh),
                    (false, None) => "shadow open".to_string(),
                };
                lines.push(Line::from(format!(
                    "{:<36} {:<4} {:>3} {:<11} {:>12} {:>12} {:>11} {:>10}",
                    r.signal_id,
                    r.side,
                    r.quantity,
                    r.exit_reason,
                    money(r.live_pnl),
                    r.shadow_pnl.map(money).unwrap_or_else(|| "—".into()),
                    diff,
                    format!("{}/{}", ticks(r.entry_ticks), ticks(r.exit_ticks)),
                )));
            }
            lines.push(Line::from(vec![
                bold("total"),
                Span::raw(format!(
                    ": live {} vs shadow {} · difference {}",
                    money(t.live_total),
                    money(t.shadow_total),
                    money(t.live_total - t.shadow_total)
                )),
            ]));
            lines
        }
    };
    frame.render_widget(
        Paragraph::new(lines).block(pane("NinjaTrader (real trades today)")),
        area,
    );
}

fn draw_footer(frame: &mut Frame, area: Rect, s: &DeskState) {
    let keys = if s.choosing.is_some() {
        "switch profile: ←/→ window · ↑/↓ profile · Enter apply · Esc cancel"
    } else {
        "h halt · r resume · p switch profile · q quit"
    };
    let mut spans = vec![Span::styled(
        format!(" {keys} "),
        Style::default().add_modifier(Modifier::REVERSED),
    )];
    if let Some(m) = &s.message {
        spans.push(Span::raw(format!(" {m}")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
