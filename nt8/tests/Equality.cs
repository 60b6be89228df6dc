// TEST-ONLY: proof that live and backtest agree (issue 18). Never copied to NinjaTrader.
//
// Replays a bar file through the real VrevAutoTrader, whose orders the stub fills by the shadow
// book's model (DESIGN sections 10 and 10a: TestHookEnableFillSimulator), dropping each signal and
// exit file vrev wrote into the signals folder right after the bar whose close is its SIGNAL_TIME
// and running the poll timer's work before the next bar, as a live day would. Then compares the
// auto-trader's trade log with vrev's trades.csv (vrev backtest --report) trade by trade: entry
// time and price, exit time and price, exit reason, points and P&L.
//
// Usage: mono Equality.exe --bars BARS --signals DIR --trades trades.csv --config config.toml
//                          --profile NAME [--require reason,reason,...] [--work DIR]
// BARS is a NinjaTrader export (yyyyMMdd HHmmss;open;high;low;close;volume, close times in ET).
// Exit code 0 when every trade is equal and each required reason occurs; 1 otherwise.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using NinjaTrader.NinjaScript;
using NinjaTrader.NinjaScript.Strategies;
using T = NinjaTrader.NinjaScript.Strategies.VrevTrading;

public static class Equality
{
	private sealed class Bar
	{
		public DateTime Local; // ET wall time of the close, as NinjaTrader shows it
		public DateTime Utc;
		public double Open, High, Low, Close, Volume;
	}

	private sealed class Row
	{
		public string Id, Side, Reason;
		public int Quantity;
		public string EntryTime, ExitTime;
		public double EntryPrice, ExitPrice, Points, Pnl;
	}

	private sealed class Config
	{
		public List<string[]> Sessions = new List<string[]>();
		public double Commission = 2.25, Tick = 0.25, PointValue = 50.0;
		public int SlippageTicks = 1;
		public string Symbol = "ES";
	}

	public static int Main(string[] args)
	{
		try
		{
			return Run(args);
		}
		catch (Exception ex)
		{
			Console.WriteLine("equality: FAIL: " + ex);
			return 1;
		}
	}

	private static string Arg(string[] args, string name, string fallback)
	{
		int i = Array.IndexOf(args, name);
		if (i >= 0 && i + 1 < args.Length)
			return args[i + 1];
		if (fallback == null)
			throw new ArgumentException("missing " + name);
		return fallback;
	}

	private static int Run(string[] args)
	{
		string barsPath = Arg(args, "--bars", null), signalsDir = Arg(args, "--signals", null), tradesPath = Arg(args, "--trades", null);
		string configPath = Arg(args, "--config", null), profile = Arg(args, "--profile", null);
		string[] required = Arg(args, "--require", "").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Select(r => r.Trim()).ToArray();
		string work = Arg(args, "--work", Path.Combine(Path.GetTempPath(), "vrev-equality-" + Guid.NewGuid().ToString("N")));
		string label = "equality " + profile;
		List<string> problems = new List<string>();

		Config cfg = ReadConfig(configPath);
		TimeZoneInfo eastern = T.VrevTime.Eastern();
		List<Bar> bars = ReadBars(barsPath, eastern);

		// vrev's files, by the bar close they follow.
		Dictionary<DateTime, List<string>> dropAt = new Dictionary<DateTime, List<string>>();
		int signalFiles = 0, exitFiles = 0, maxQuantity = T.VrevLimits.DefaultMaxQuantity;
		List<string> signalIds = new List<string>(), exitIds = new List<string>();
		foreach (string path in Directory.GetFiles(signalsDir).OrderBy(p => p, StringComparer.Ordinal))
		{
			string name = Path.GetFileName(path);
			DateTime at;
			if (name.EndsWith(".txt", StringComparison.Ordinal))
			{
				T.VrevParseResult r = T.VrevSignalParser.ParseFile(path);
				if (r.Signal == null)
				{
					problems.Add("vrev's signal file does not parse: " + r.Error);
					continue;
				}
				at = r.Signal.SignalTimeUtc;
				maxQuantity = Math.Max(maxQuantity, r.Signal.Quantity);
				signalIds.Add(r.Signal.Id);
				signalFiles++;
			}
			else if (name.EndsWith(".exit", StringComparison.Ordinal))
			{
				T.VrevExitParseResult r = T.VrevExitParser.Parse(name, File.ReadAllText(path, Encoding.UTF8));
				if (r.Exit == null)
				{
					problems.Add("vrev's exit file does not parse: " + r.Error);
					continue;
				}
				at = r.Exit.SignalTimeUtc;
				exitIds.Add(r.Exit.Id);
				exitFiles++;
			}
			else
				continue;
			List<string> list;
			if (!dropAt.TryGetValue(at, out list))
				dropAt[at] = list = new List<string>();
			list.Add(path);
		}
		HashSet<DateTime> closes = new HashSet<DateTime>(bars.Select(b => b.Utc));
		foreach (DateTime t in dropAt.Keys)
			if (!closes.Contains(t))
				problems.Add("no bar closes at SIGNAL_TIME " + T.VrevFormat.Utc(t) + " of " + string.Join(", ", dropAt[t].Select(Path.GetFileName)));

		// The auto-trader, set up to admit what vrev admitted: the config's windows (vrev --profile
		// runs the profile in every window), a Max quantity that fits vrev's sizes, no daily cap.
		string signals = Path.Combine(work, "signals"), state = Path.Combine(work, "state");
		Directory.CreateDirectory(signals);
		Directory.CreateDirectory(state);
		if (cfg.Sessions.Count > 3)
			throw new InvalidOperationException("config has " + cfg.Sessions.Count + " session windows; VrevAutoTrader has 3 window properties");
		VrevAutoTrader s = new VrevAutoTrader();
		s.TestHookSetState(State.SetDefaults);
		s.SignalsFolder = signals;
		s.StateFolder = state;
		s.PollIntervalMilliseconds = 3600000; // the harness runs the timer's work itself, between bars
		s.ChartTimeZoneId = "America/New_York";
		s.MaxQuantity = maxQuantity;
		s.MaxSignalsPerDay = 10000;
		string[] w = new string[6];
		for (int i = 0; i < 3; i++)
		{
			w[2 * i] = i < cfg.Sessions.Count ? cfg.Sessions[i][0] : "";
			w[2 * i + 1] = i < cfg.Sessions.Count ? cfg.Sessions[i][1] : "";
		}
		s.Window1Start = w[0]; s.Window1End = w[1];
		s.Window2Start = w[2]; s.Window2End = w[3];
		s.Window3Start = w[4]; s.Window3End = w[5];
		s.TestHookSetInstrument(cfg.Symbol + " 03-25", cfg.Symbol, cfg.Tick, cfg.PointValue);
		s.TestHookSetState(State.Configure);
		s.TestHookSetState(State.DataLoaded);
		s.TestHookSetState(State.Historical);
		s.TestHookSetState(State.Transition);
		s.TestHookSetState(State.Realtime);
		s.TestHookEnableFillSimulator(cfg.Tick, cfg.SlippageTicks);
		MethodInfo poll = typeof(VrevAutoTrader).GetMethod("OnPollTimer", BindingFlags.NonPublic | BindingFlags.Instance);

		DateTime started = DateTime.UtcNow;
		foreach (Bar b in bars)
		{
			s.TestHookSimBar(b.Local, b.Open, b.High, b.Low, b.Close, b.Volume);
			List<string> files;
			if (dropAt.TryGetValue(b.Utc, out files))
			{
				foreach (string path in files)
					File.Copy(path, Path.Combine(signals, Path.GetFileName(path)));
				poll.Invoke(s, new object[] { null });
			}
		}
		double seconds = (DateTime.UtcNow - started).TotalSeconds;
		s.TestHookSetState(State.Terminated);
		List<string> output = s.TestHookOutputSnapshot();
		File.WriteAllLines(Path.Combine(work, "VrevAutoTrader.log"), output.ToArray());
		File.WriteAllLines(Path.Combine(work, "fills.log"), s.TestHookSimFills.ToArray());
		foreach (string line in output.Where(l => l.Contains(": error: ") || l.Contains(": disabled: ")))
			problems.Add("auto-trader: " + line);

		// Every file vrev wrote was executed.
		T.VrevProcessedStore store = new T.VrevProcessedStore(Path.Combine(state, "processed_Sim101.txt"));
		store.Load();
		foreach (string id in signalIds)
			if (store.OutcomeOf(id) != T.VrevProcessedStore.Accepted)
				problems.Add("signal " + id + ": " + (store.OutcomeOf(id) ?? "never decided") + " | " + string.Join(" | ", output.Where(l => l.Contains(id)).Take(3)));
		foreach (string id in exitIds)
			if (store.OutcomeOf(T.VrevExitFile.Key(id)) != T.VrevProcessedStore.ExitAccepted)
				problems.Add("exit " + id + ": " + (store.OutcomeOf(T.VrevExitFile.Key(id)) ?? "never decided") + " | " + string.Join(" | ", output.Where(l => l.Contains("exit " + id)).Take(3)));

		// Trade by trade.
		List<Row> vrev = ReadVrevTrades(tradesPath);
		List<Row> nt = ReadTradeLog(Path.Combine(state, "trades_Sim101.csv"));
		Dictionary<string, Row> ntById = new Dictionary<string, Row>();
		foreach (Row r in nt)
		{
			if (ntById.ContainsKey(r.Id))
				problems.Add(r.Id + ": two trades in the auto-trader's log");
			ntById[r.Id] = r;
		}
		HashSet<string> vrevIds = new HashSet<string>(vrev.Select(r => r.Id));
		SortedDictionary<string, int> reasons = new SortedDictionary<string, int>(StringComparer.Ordinal);
		SortedDictionary<string, int> ntReasons = new SortedDictionary<string, int>(StringComparer.Ordinal);
		int compared = 0, endOfData = 0;
		List<string> diffs = new List<string>();
		foreach (Row v in vrev)
		{
			Row n;
			ntById.TryGetValue(v.Id, out n);
			if (v.Reason == "end_of_data")
			{
				// The bars end with the trade open: the auto-trader holds it still, nothing to log.
				endOfData++;
				if (n != null)
					diffs.Add(v.Id + ": vrev ends it at the end of the data, the auto-trader closed it: " + Describe(n));
				continue;
			}
			if (n == null)
			{
				diffs.Add(v.Id + ": missing in the auto-trader's log; vrev: " + Describe(v));
				continue;
			}
			compared++;
			Bump(reasons, v.Reason);
			Bump(ntReasons, n.Reason);
			List<string> d = new List<string>();
			if (v.Side != n.Side) d.Add("side " + v.Side + " vs " + n.Side);
			if (v.Quantity != n.Quantity) d.Add("quantity " + v.Quantity + " vs " + n.Quantity);
			if (v.EntryTime != n.EntryTime) d.Add("entry time " + v.EntryTime + " vs " + n.EntryTime);
			if (!Same(v.EntryPrice, n.EntryPrice)) d.Add("entry price " + P(v.EntryPrice) + " vs " + P(n.EntryPrice));
			if (v.ExitTime != n.ExitTime) d.Add("exit time " + v.ExitTime + " vs " + n.ExitTime);
			if (!Same(v.ExitPrice, n.ExitPrice)) d.Add("exit price " + P(v.ExitPrice) + " vs " + P(n.ExitPrice));
			if (!SameReason(v.Reason, n.Reason)) d.Add("reason " + v.Reason + " vs " + n.Reason);
			if (!Same(v.Points, n.Points)) d.Add("points " + P(v.Points) + " vs " + P(n.Points));
			// The auto-trader's P&L has no commission: vrev's + 2 x commission x contracts.
			double gross = Math.Round(v.Pnl + 2 * cfg.Commission * v.Quantity, 2);
			if (Math.Abs(gross - n.Pnl) > 0.005) d.Add("P&L before commission " + gross.ToString("0.00", CultureInfo.InvariantCulture) + " vs " + n.Pnl.ToString("0.00", CultureInfo.InvariantCulture));
			if (Math.Abs(Math.Round(n.Points * n.Quantity * cfg.PointValue, 2) - n.Pnl) > 0.005) d.Add("auto-trader P&L " + n.Pnl.ToString("0.00", CultureInfo.InvariantCulture) + " is not points x quantity x point value");
			if (d.Count > 0)
				diffs.Add(v.Id + ": " + string.Join("; ", d) + "\n      vrev " + Describe(v) + "\n      nt8  " + Describe(n));
		}
		foreach (Row n in nt)
			if (!vrevIds.Contains(n.Id))
				diffs.Add(n.Id + ": in the auto-trader's log only: " + Describe(n));
		if (compared == 0)
			problems.Add("no trade to compare: the proof would be empty");
		foreach (string r in required)
			if (Count(reasons, r) + (r == "stop_gap" ? 0 : Count(ntReasons, r)) == 0)
				problems.Add("no trade with exit reason " + r + " (required for profile " + profile + ")");

		string counts = string.Join(", ", reasons.Select(kv => kv.Key + " " + kv.Value));
		string ntCounts = string.Join(", ", ntReasons.Select(kv => kv.Key + " " + kv.Value));
		string inputs = signalFiles + " signal files, " + exitFiles + " exit files, " + bars.Count + " bars in " + seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
			+ (endOfData > 0 ? ", " + endOfData + " end_of_data trade(s) still open in NinjaTrader (not compared)" : "");
		if (diffs.Count == 0 && problems.Count == 0)
		{
			Console.WriteLine(label + ": " + compared + " trades, all equal (" + counts + "; auto-trader log: " + ntCounts + "); " + inputs);
			return 0;
		}
		Console.WriteLine(label + ": FAIL: " + diffs.Count + " of " + (compared + diffs.Count(x => x.Contains("missing") || x.Contains("only"))) + " trades differ, " + problems.Count + " other problems (" + inputs + ")");
		foreach (string d in diffs.Take(40))
			Console.WriteLine("  " + d);
		if (diffs.Count > 40)
			Console.WriteLine("  ... " + (diffs.Count - 40) + " more");
		foreach (string p in problems.Take(40))
			Console.WriteLine("  " + p);
		Console.WriteLine("  (auto-trader log and fills in " + work + ")");
		return 1;
	}

	private static void Bump(SortedDictionary<string, int> d, string key)
	{
		int n;
		d.TryGetValue(key, out n);
		d[key] = n + 1;
	}

	private static int Count(SortedDictionary<string, int> d, string key)
	{
		int n;
		return d.TryGetValue(key, out n) ? n : 0;
	}

	private static bool Same(double a, double b)
	{
		return Math.Abs(a - b) < 1e-6;
	}

	/// <summary>vrev's stop_gap is any stop-family reason on the C# side (NinjaTrader cannot tell a gap).</summary>
	private static bool SameReason(string vrev, string nt)
	{
		if (vrev == "stop_gap")
			return nt == "stop" || nt == "breakeven" || nt == "trail";
		return vrev == nt;
	}

	private static string P(double v)
	{
		return v.ToString("0.00######", CultureInfo.InvariantCulture);
	}

	private static string Describe(Row r)
	{
		return r.Side + " " + r.Quantity + " in " + r.EntryTime + " @ " + P(r.EntryPrice) + ", out " + r.ExitTime + " @ " + P(r.ExitPrice) + " " + r.Reason
			+ ", " + P(r.Points) + " points, P&L " + r.Pnl.ToString("0.00", CultureInfo.InvariantCulture);
	}

	private static double Num(string s)
	{
		return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
	}

	/// <summary>vrev's trades.csv, read by its header (columns may be added).</summary>
	private static List<Row> ReadVrevTrades(string path)
	{
		string[] lines = File.ReadAllLines(path);
		string[] head = lines[0].Split(',');
		Func<string, int> col = name =>
		{
			int i = Array.IndexOf(head, name);
			if (i < 0)
				throw new InvalidDataException(path + ": no column " + name + " in " + lines[0]);
			return i;
		};
		int id = col("signal_id"), side = col("side"), entryTime = col("entry_time"), entryPrice = col("entry_price"), exitTime = col("exit_time");
		int exitPrice = col("exit_price"), reason = col("exit_reason"), contracts = col("contracts"), pnl = col("pnl");
		List<Row> rows = new List<Row>();
		for (int i = 1; i < lines.Length; i++)
		{
			if (lines[i].Length == 0)
				continue;
			string[] f = lines[i].Split(',');
			if (f.Length != head.Length)
				throw new InvalidDataException(path + ":" + (i + 1) + ": " + f.Length + " fields, header has " + head.Length);
			Row r = new Row { Id = f[id], Side = f[side], EntryTime = f[entryTime], EntryPrice = Num(f[entryPrice]), ExitTime = f[exitTime] };
			r.ExitPrice = Num(f[exitPrice]);
			r.Reason = f[reason];
			r.Quantity = int.Parse(f[contracts], CultureInfo.InvariantCulture);
			r.Pnl = Num(f[pnl]);
			r.Points = Math.Round((r.ExitPrice - r.EntryPrice) * (r.Side == "SELL" ? -1 : 1), 8);
			rows.Add(r);
		}
		return rows;
	}

	/// <summary>The auto-trader's trades_&lt;account&gt;.csv (VrevTradeLog.Header).</summary>
	private static List<Row> ReadTradeLog(string path)
	{
		List<Row> rows = new List<Row>();
		if (!File.Exists(path))
			return rows;
		string[] lines = File.ReadAllLines(path);
		if (lines.Length == 0 || lines[0] != T.VrevTradeLog.Header)
			throw new InvalidDataException(path + ": unexpected header");
		for (int i = 1; i < lines.Length; i++)
		{
			string[] f = lines[i].Split(',');
			rows.Add(new Row
			{
				Id = f[0], Side = f[1], Quantity = int.Parse(f[2], CultureInfo.InvariantCulture), EntryTime = f[3], EntryPrice = Num(f[4]),
				ExitTime = f[5], ExitPrice = Num(f[6]), Reason = f[7], Points = Num(f[8]), Pnl = Num(f[9])
			});
		}
		return rows;
	}

	/// <summary>NinjaTrader export: yyyyMMdd HHmmss;open;high;low;close;volume (bar close, ET wall time).</summary>
	private static List<Bar> ReadBars(string path, TimeZoneInfo eastern)
	{
		List<Bar> bars = new List<Bar>();
		DateTime? previous = null;
		int lineNo = 0;
		foreach (string raw in File.ReadLines(path))
		{
			lineNo++;
			string line = raw.Trim();
			if (line.Length == 0)
				continue;
			string[] f = line.Split(';');
			if (f.Length < 6)
				throw new InvalidDataException(path + ":" + lineNo + ": expected 6 ';'-separated fields");
			DateTime local = DateTime.SpecifyKind(DateTime.ParseExact(f[0], "yyyyMMdd HHmmss", CultureInfo.InvariantCulture), DateTimeKind.Unspecified);
			DateTime utc = T.VrevTime.ToUtc(local, eastern, previous);
			previous = utc;
			bars.Add(new Bar { Local = local, Utc = utc, Open = Num(f[1]), High = Num(f[2]), Low = Num(f[3]), Close = Num(f[4]), Volume = Num(f[5]) });
		}
		return bars;
	}

	/// <summary>The few config.toml values the comparison needs: session windows, costs, instrument.</summary>
	private static Config ReadConfig(string path)
	{
		Config c = new Config();
		string table = "";
		string[] session = null;
		foreach (string raw in File.ReadAllLines(path))
		{
			string line = StripComment(raw).Trim();
			if (line.Length == 0)
				continue;
			if (line.StartsWith("[", StringComparison.Ordinal))
			{
				table = line.Trim('[', ']').Trim();
				session = null;
				if (line.StartsWith("[[session]]", StringComparison.Ordinal))
				{
					session = new string[2];
					c.Sessions.Add(session);
				}
				continue;
			}
			int eq = line.IndexOf('=');
			if (eq < 0)
				continue;
			string key = line.Substring(0, eq).Trim(), value = line.Substring(eq + 1).Trim().Trim('"');
			if (session != null && key == "start") session[0] = value;
			else if (session != null && key == "end") session[1] = value;
			else if (table == "backtest" && key == "commission_per_contract_side") c.Commission = Num(value);
			else if (table == "backtest" && key == "slippage_ticks") c.SlippageTicks = int.Parse(value, CultureInfo.InvariantCulture);
			else if (table == "instrument" && key == "tick_size") c.Tick = Num(value);
			else if (table == "instrument" && key == "point_value") c.PointValue = Num(value);
			else if (table == "instrument" && key == "symbol") c.Symbol = value;
		}
		foreach (string[] s in c.Sessions)
			if (s[0] == null || s[1] == null)
				throw new InvalidDataException(path + ": a [[session]] without start or end");
		return c;
	}

	private static string StripComment(string line)
	{
		bool quoted = false;
		for (int i = 0; i < line.Length; i++)
		{
			if (line[i] == '"') quoted = !quoted;
			else if (line[i] == '#' && !quoted) return line.Substring(0, i);
		}
		return line;
	}
}
