// TEST-ONLY: unit and flow tests of the NinjaScript files, run under mono by .ci/nt8.sh.
// Usage: mono Tests.exe <repo root>     Exit code = number of failed checks.
// Never copied to NinjaTrader.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using NinjaTrader.Cbi;
using NinjaTrader.Data;
using NinjaTrader.NinjaScript;
using NinjaTrader.NinjaScript.Indicators;
using NinjaTrader.NinjaScript.Strategies;
using Feed = NinjaTrader.NinjaScript.Indicators.VrevFeed;
using T = NinjaTrader.NinjaScript.Strategies.VrevTrading;

public static class Tests
{
	private static int passed;
	private static int failed;
	private static string repoRoot;
	private static readonly List<string> tempDirs = new List<string>();

	public static int Main(string[] args)
	{
		repoRoot = args.Length > 0 ? args[0] : ".";
		Run("fixtures parse (invariant culture)", () => FixturesParse(CultureInfo.InvariantCulture, FixtureDir(), 3));
		Run("fixtures parse (de-DE culture)", () => FixturesParse(new CultureInfo("de-DE"), FixtureDir(), 3));
		// Contract: files the Rust engine just wrote (CI sets VREV_RUST_SIGNALS after a replay).
		string rustSignals = Environment.GetEnvironmentVariable("VREV_RUST_SIGNALS");
		if (!string.IsNullOrEmpty(rustSignals))
		{
			Run("signal files written by vrev replay parse (de-DE culture)", () => FixturesParse(new CultureInfo("de-DE"), rustSignals, 10));
			Run("signal files written by vrev replay: SELL IDs end in _SELL, CONFIDENCE only with a value", () => RustNewFormat(rustSignals));
			Run("exit files written by vrev replay parse and are named after their signal (none before vrev writes them)", () => RustExitFiles(rustSignals));
		}

		// Everything below runs with a German culture on every thread: numbers must still use '.'.
		CultureInfo de = new CultureInfo("de-DE");
		Thread.CurrentThread.CurrentCulture = de;
		CultureInfo.DefaultThreadCurrentCulture = de;
		Check("de-DE culture really uses ',' decimals", (1.5).ToString(CultureInfo.CurrentCulture) == "1,5");

		Run("malformed signal files", Malformed);
		Run("CONFIDENCE missing or empty = no confidence", ConfidenceOptional);
		Run("SELL IDs with _SELL suffix are opaque keys", SellSuffixIds);
		Run("new-format files (no CONFIDENCE, _SELL ID) parse field by field (de-DE culture)", () =>
		{
			string dir = TempDir();
			File.WriteAllText(Path.Combine(dir, "vreversal_20250714_095000_6290.00_6301.25_SELL.txt"), SellFixtureWithSuffix());
			File.WriteAllText(Path.Combine(dir, "vreversal_20250714_095000_6290.00_6301.25.txt"), BuyOfSameBar());
			FixturesParse(new CultureInfo("de-DE"), dir, 2);
		});
		Run("signal file name filter", FileFilter);
		Run("processed-ID store survives a restart", ProcessedStore);
		Run("staleness by data time", Staleness);
		Run("windows and weekends", Windows);
		Run("trading day rollover incl. DST Sundays", TradingDay);
		Run("admission rules order", Rules);
		Run("exit classification, max hold, trade tracker", Exits);
		Run("time conversion to UTC", TimeConversion);
		Run("look-back bar-count table", Lookback);
		Run("handshake accept key", Handshake);
		Run("frame encoding and decoding", Frames);
		Run("JSON messages (de-DE thread culture)", Json);
		Run("history buffer and resume selection", History);
		Run("strategy defaults", StrategyDefaults);
		Run("strategy BUY flow with max hold exit", BuyFlow);
		Run("strategy SELL flow with stop exit", SellFlow);
		Run("strategy restart skips processed IDs", RestartFlow);
		Run("strategy stale, wrong instrument, malformed and temp files", RejectFlow);
		Run("strategy polls on a timer without bars or ticks", TimerFlow);
		Run("strategy: new format (no CONFIDENCE, _SELL IDs), BUY and SELL of one bar", NewFormatFlow);
		Run("strategy: unparseable files refused once, also when they cannot be moved and after a restart", RefusedOnceFlow);
		Run("strategy: an unreadable file is logged once, retried, then read", LockedFileFlow);
		Run("strategy: a file unreadable for MaxReadAttempts scans is refused once", UnreadableFileFlow);
		Run("protocol 2: PROTOCOL, exit-plan keys and exit files parse; newer or malformed PROTOCOL refused", ProtocolParse);
		Run("exit plan rules: breakeven, trail, both on one bar (SELL mirrored)", ExitPlanRules);
		Run("windows across midnight: trading day, Sunday evening in, Friday evening out", WrappingWindows);
		Run("limits: quantity, stop, target, signal life, max hold refused (never clamped)", LimitRules);
		Run("strategy + fill simulator: breakeven moves the stop, its fill is named breakeven", BreakevenFlow);
		Run("strategy + fill simulator: trail moves only when strictly better, BUY and SELL, gap named trail", TrailFlow);
		Run("strategy + fill simulator: breakeven and trail on one bar, stop naming", BothRulesFlow);
		Run("strategy + fill simulator: flat-by exits at the close, max hold first", FlatByFlow);
		Run("strategy + fill simulator: exit files accepted, expired, not held, refused, never twice after a restart", ExitFileFlow);
		Run("strategy: a file with PROTOCOL 3 or a malformed PROTOCOL is refused", ProtocolFlow);
		Run("strategy: only <prefix><ID>.txt within the limits is executed (notes.txt, other prefixes, probes)", OnlyVrevFilesFlow);
		Run("strategy: window across midnight, Sunday evening entered, Friday evening refused", EveningFlow);
		Run("publisher indicator defaults and history sizing", PublisherDefaults);

		foreach (string d in tempDirs)
		{
			try { Directory.Delete(d, true); } catch (Exception) { }
		}
		Console.WriteLine(passed + " passed, " + failed + " failed");
		return failed;
	}

	// ------------------------------------------------------------------ helpers

	private static void Run(string name, Action test)
	{
		int before = failed;
		try
		{
			test();
		}
		catch (Exception ex)
		{
			failed++;
			Console.WriteLine("FAIL " + name + ": exception " + ex);
		}
		Console.WriteLine((failed == before ? "ok   " : "FAIL ") + name);
	}

	private static void Check(string what, bool condition)
	{
		if (condition)
			passed++;
		else
		{
			failed++;
			Console.WriteLine("  check failed: " + what);
		}
	}

	private static void Eq<TV>(string what, TV expected, TV actual)
	{
		if (EqualityComparer<TV>.Default.Equals(expected, actual))
			passed++;
		else
		{
			failed++;
			Console.WriteLine("  check failed: " + what + ": expected <" + expected + "> got <" + actual + ">");
		}
	}

	private static string TempDir()
	{
		string d = Path.Combine(Path.GetTempPath(), "vrev-nt8-" + Guid.NewGuid().ToString("N"));
		Directory.CreateDirectory(d);
		tempDirs.Add(d);
		return d;
	}

	private static string FixtureDir()
	{
		return Path.Combine(Path.Combine(Path.Combine(repoRoot, "tests"), "fixtures"), "signals");
	}

	private static string Fixture(string startsWith)
	{
		return Directory.GetFiles(FixtureDir()).First(f => Path.GetFileName(f).StartsWith(startsWith, StringComparison.Ordinal));
	}

	private static TimeZoneInfo Et()
	{
		return T.VrevTime.Eastern();
	}

	private static DateTime Utc(string s)
	{
		return DateTime.SpecifyKind(DateTime.ParseExact(s, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), DateTimeKind.Utc);
	}

	private static DateTime Local(string s)
	{
		return DateTime.SpecifyKind(DateTime.ParseExact(s, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), DateTimeKind.Unspecified);
	}

	private static DateTime Day(string s)
	{
		return DateTime.ParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture);
	}

	private static string Hex(byte[] b, int count)
	{
		StringBuilder sb = new StringBuilder();
		for (int i = 0; i < Math.Min(count, b.Length); i++)
			sb.Append(b[i].ToString("x2", CultureInfo.InvariantCulture));
		return sb.ToString();
	}

	// ------------------------------------------------------------------ signal files

	private static void FixturesParse(CultureInfo culture, string dir, int atLeast)
	{
		CultureInfo saved = Thread.CurrentThread.CurrentCulture;
		Thread.CurrentThread.CurrentCulture = culture;
		try
		{
			string[] files = Directory.GetFiles(dir, "*.txt");
			Check("at least " + atLeast + " signal files in " + dir, files.Length >= atLeast);
			foreach (string path in files)
			{
				string name = Path.GetFileName(path);
				T.VrevParseResult r = T.VrevSignalParser.ParseFile(path);
				Check(name + " parses (" + r.Error + ")", r.Signal != null);
				if (r.Signal == null)
					continue;
				T.VrevSignal s = r.Signal;
				// One file per ID (a SELL's ID carries _SELL, so a BUY and a SELL of a bar never share a name).
				Check(name + " file name ends with its SIGNAL_ID " + s.Id, name.EndsWith("_" + s.Id + ".txt", StringComparison.Ordinal));
				Dictionary<string, string> expected = new Dictionary<string, string>();
				foreach (string raw in File.ReadAllText(path, Encoding.UTF8).Split('\n'))
				{
					if (raw.Length == 0 || raw.StartsWith("#"))
						continue;
					int eq = raw.IndexOf('=');
					expected[raw.Substring(0, eq)] = raw.Substring(eq + 1);
				}
				Eq(name + " key count", expected.Count, s.Values.Count);
				foreach (KeyValuePair<string, string> kv in expected)
				{
					string got;
					s.Values.TryGetValue(kv.Key, out got);
					Eq(name + " " + kv.Key + " text", kv.Value, got);
					string text = kv.Value;
					switch (kv.Key)
					{
						case "SIGNAL_ID": Eq(name + " Id", text, s.Id); break;
						case "ACTION": Eq(name + " Side", text == "BUY" ? T.VrevSide.Buy : T.VrevSide.Sell, s.Side); break;
						case "ENTRY_PRICE":
							Eq(name + " EntryPrice", double.Parse(text, CultureInfo.InvariantCulture), s.EntryPrice);
							Eq(name + " EntryPrice text", text, s.EntryPrice.ToString("0.00", CultureInfo.InvariantCulture));
							break;
						case "STOP_LOSS":
							Eq(name + " StopLoss", double.Parse(text, CultureInfo.InvariantCulture), s.StopLoss);
							Eq(name + " StopLoss text", text, s.StopLoss.ToString("0.00", CultureInfo.InvariantCulture));
							break;
						case "TAKE_PROFIT":
							Eq(name + " TakeProfit", double.Parse(text, CultureInfo.InvariantCulture), s.TakeProfit);
							Eq(name + " TakeProfit text", text, s.TakeProfit.ToString("0.00", CultureInfo.InvariantCulture));
							break;
						case "QUANTITY": Eq(name + " Quantity", text, s.Quantity.ToString(CultureInfo.InvariantCulture)); break;
						case "MAX_HOLD_MINUTES": Eq(name + " MaxHoldMinutes", text, s.MaxHoldMinutes.ToString(CultureInfo.InvariantCulture)); break;
						case "SIGNAL_TIME":
							Eq(name + " SignalTimeUtc", text, s.SignalTimeUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
							Eq(name + " SignalTimeUtc kind", DateTimeKind.Utc, s.SignalTimeUtc.Kind);
							break;
						case "SIGNAL_TIME_ET":
							Eq(name + " SignalTimeEt", text, s.SignalTimeEt.Value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
							Eq(name + " SIGNAL_TIME_ET = SIGNAL_TIME in ET", text, T.VrevSession.ToEastern(s.SignalTimeUtc, Et()).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
							break;
						case "EXPIRES": Eq(name + " ExpiresUtc", text, s.ExpiresUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)); break;
						case "INSTRUMENT": Eq(name + " Instrument", text, s.Instrument); break;
						case "PROFILE": Eq(name + " Profile", text, s.Profile); break;
						case "STRATEGY": Eq(name + " Strategy", text, s.Strategy); break;
						case "PATTERN_TYPE": Eq(name + " PatternType", text, s.PatternType); break;
						case "CONFIDENCE":
							if (text.Length == 0) Check(name + " empty CONFIDENCE is null", !s.Confidence.HasValue);
							else
							{
								Eq(name + " Confidence", double.Parse(text, CultureInfo.InvariantCulture), s.Confidence.Value);
								Eq(name + " Confidence text", text, s.Confidence.Value.ToString("0.00", CultureInfo.InvariantCulture));
							}
							break;
						case "PROTOCOL": Eq(name + " Protocol", text, s.Protocol.ToString(CultureInfo.InvariantCulture)); break;
						case "BREAKEVEN_AT_POINTS":
							Eq(name + " BreakevenAtPoints", double.Parse(text, CultureInfo.InvariantCulture), s.BreakevenAtPoints.Value);
							Check(name + " plan file says PROTOCOL=2", s.Protocol == 2);
							break;
						case "TRAIL_POINTS":
							Eq(name + " TrailPoints", double.Parse(text, CultureInfo.InvariantCulture), s.TrailPoints.Value);
							Check(name + " plan file says PROTOCOL=2", s.Protocol == 2);
							break;
						case "FLAT_BY_ET":
							Eq(name + " FlatByEt", text, s.FlatByEt.Value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
							Check(name + " plan file says PROTOCOL=2", s.Protocol == 2);
							break;
						default:
							Eq(name + " extra " + kv.Key, text, s.Extras.ContainsKey(kv.Key) ? s.Extras[kv.Key] : null);
							break;
					}
				}
			}
			// Pin the values of the reference fixture so a parser returning zeros cannot pass.
			T.VrevSignal a = T.VrevSignalParser.ParseFile(Fixture("vreversal_20250213")).Signal;
			Eq("ref ID", "20250213_135900_6107.25_6091.50", a.Id);
			Eq("ref entry", 6107.00, a.EntryPrice);
			Eq("ref stop", 6101.00, a.StopLoss);
			Eq("ref target", 6110.00, a.TakeProfit);
			Eq("ref qty", 3, a.Quantity);
			Eq("ref hold", 25, a.MaxHoldMinutes);
			Eq("ref time", Utc("2025-02-13T18:59:00Z"), a.SignalTimeUtc);
			Eq("ref expires", Utc("2025-02-13T19:00:30Z"), a.ExpiresUtc);
			Eq("ref confidence", 0.80, a.Confidence.Value);
			Eq("ref DROP", "15.75", a.Extras["DROP"]);
			T.VrevSignal c = T.VrevSignalParser.ParseFile(Fixture("vreversal_20251103")).Signal;
			Eq("custom NOTE with spaces and ';'", "first hour; retest held", c.Extras["NOTE"]);
			Eq("custom STRONG", "true", c.Extras["STRONG"]);
			Check("fixture without a CONFIDENCE line has no confidence", !c.Confidence.HasValue);
			// The SELL fixture is in the new format: its ID and file name end in _SELL.
			string sellPath = Fixture("vreversal_20250714");
			Eq("SELL fixture file name", "vreversal_20250714_095000_6290.00_6301.25_SELL.txt", Path.GetFileName(sellPath));
			T.VrevSignal b = T.VrevSignalParser.ParseFile(sellPath).Signal;
			Eq("SELL fixture ID", "20250714_095000_6290.00_6301.25_SELL", b.Id);
			Eq("SELL fixture side", T.VrevSide.Sell, b.Side);
			Eq("SELL fixture stop", 6296.50, b.StopLoss);
			Eq("SELL fixture target", 6287.25, b.TakeProfit);
			Eq("SELL fixture confidence", 0.70, b.Confidence.Value);
		}
		finally
		{
			Thread.CurrentThread.CurrentCulture = saved;
		}
	}

	private static string Reference()
	{
		return File.ReadAllText(Fixture("vreversal_20250213"), Encoding.UTF8);
	}

	private static void ExpectError(string what, string fileName, string text, string mustContain)
	{
		T.VrevParseResult r = T.VrevSignalParser.Parse(fileName, text);
		Check(what + " is rejected", r.Signal == null && r.Error != null);
		if (r.Error != null)
		{
			Check(what + " error '" + r.Error + "' names the file", r.Error.StartsWith(fileName + ":", StringComparison.Ordinal));
			Check(what + " error '" + r.Error + "' contains '" + mustContain + "'", r.Error.Contains(mustContain));
		}
	}

	private static void Malformed()
	{
		string good = Reference();
		string f = "vreversal_test.txt";
		ExpectError("missing QUANTITY", f, good.Replace("QUANTITY=3\n", ""), ":16: missing required key QUANTITY");
		ExpectError("bad number (comma decimal)", f, good.Replace("ENTRY_PRICE=6107.00", "ENTRY_PRICE=6107,00"), ":4: ENTRY_PRICE");
		ExpectError("bad number (thousands separator)", f, good.Replace("STOP_LOSS=6101.00", "STOP_LOSS=6,101.00"), ":5: STOP_LOSS");
		ExpectError("bad number (exponent)", f, good.Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=6.11e3"), ":6: TAKE_PROFIT");
		ExpectError("bad number (text)", f, good.Replace("ENTRY_PRICE=6107.00", "ENTRY_PRICE=abc"), ":4:");
		ExpectError("bad ACTION", f, good.Replace("ACTION=BUY", "ACTION=HOLD"), ":3: ACTION must be BUY or SELL");
		ExpectError("lower-case action", f, good.Replace("ACTION=BUY", "ACTION=buy"), ":3:");
		ExpectError("empty file", f, "", ":1: empty file");
		ExpectError("whitespace-only file", f, "\n\n  \n", ":1: empty file");
		ExpectError("comment-only file", f, "# nothing\n", "missing required key SIGNAL_ID");
		ExpectError("zero quantity", f, good.Replace("QUANTITY=3", "QUANTITY=0"), ":7: QUANTITY");
		ExpectError("fractional quantity", f, good.Replace("QUANTITY=3", "QUANTITY=1.5"), ":7: QUANTITY");
		ExpectError("bad hold", f, good.Replace("MAX_HOLD_MINUTES=25", "MAX_HOLD_MINUTES=-5"), ":8: MAX_HOLD_MINUTES");
		ExpectError("bad time", f, good.Replace("SIGNAL_TIME=2025-02-13T18:59:00Z", "SIGNAL_TIME=13.02.2025 18:59"), ":9: SIGNAL_TIME");
		ExpectError("expires before signal", f, good.Replace("EXPIRES=2025-02-13T19:00:30Z", "EXPIRES=2025-02-13T18:00:30Z"), ":11: EXPIRES");
		ExpectError("line without '='", f, good.Replace("PROFILE=production", "PROFILE production"), ":13: expected KEY=VALUE");
		ExpectError("lower-case key", f, good + "drop=1\n", ":18: invalid key");
		ExpectError("duplicate key", f, good + "ACTION=SELL\n", ":18: duplicate key ACTION");
		ExpectError("BUY with stop above entry", f, good.Replace("STOP_LOSS=6101.00", "STOP_LOSS=6108.00"), "STOP_LOSS < ENTRY_PRICE < TAKE_PROFIT");
		ExpectError("bad confidence", f, good.Replace("CONFIDENCE=0.80", "CONFIDENCE=80"), ":16: CONFIDENCE");

		// Accepted variations: CRLF line ends, any key order, unknown keys, BOM.
		T.VrevParseResult crlf = T.VrevSignalParser.Parse(f, good.Replace("\n", "\r\n"));
		Check("CRLF accepted", crlf.Signal != null && crlf.Signal.Values["PROFILE"] == "production");
		string[] lines = good.Split('\n').Where(l => l.Length > 0).Reverse().ToArray();
		T.VrevParseResult reversed = T.VrevSignalParser.Parse(f, string.Join("\n", lines) + "\n");
		Check("keys in any order accepted", reversed.Signal != null && reversed.Signal.StopLoss == 6101.00);
		T.VrevParseResult bom = T.VrevSignalParser.Parse(f, "\uFEFF" + good);
		Check("UTF-8 BOM accepted", bom.Signal != null);
		T.VrevParseResult extra = T.VrevSignalParser.Parse(f, good + "NEW_KEY_2=x=y\n");
		Check("unknown key kept, split at first '='", extra.Signal != null && extra.Signal.Extras["NEW_KEY_2"] == "x=y");
	}

	/// <summary>The Rust side writes CONFIDENCE only when it has a value; older files have an empty one.</summary>
	private static void ConfidenceOptional()
	{
		string good = Reference();
		string f = "vreversal_20250213_135900_6107.25_6091.50.txt";
		Check("reference has CONFIDENCE=0.80", good.Contains("CONFIDENCE=0.80\n"));
		T.VrevParseResult missing = T.VrevSignalParser.Parse(f, good.Replace("CONFIDENCE=0.80\n", ""));
		Check("no CONFIDENCE line parses (" + missing.Error + ")", missing.Signal != null);
		if (missing.Signal != null)
		{
			Check("missing CONFIDENCE = no confidence", !missing.Signal.Confidence.HasValue);
			Check("missing CONFIDENCE is not invented as a value", !missing.Signal.Values.ContainsKey("CONFIDENCE"));
			Check("missing CONFIDENCE is not an extra", !missing.Signal.Extras.ContainsKey("CONFIDENCE"));
			Eq("rest of the file still read", 6101.00, missing.Signal.StopLoss);
		}
		T.VrevParseResult empty = T.VrevSignalParser.Parse(f, good.Replace("CONFIDENCE=0.80", "CONFIDENCE="));
		Check("empty CONFIDENCE= parses (older files) (" + empty.Error + ")", empty.Signal != null);
		if (empty.Signal != null)
			Check("empty CONFIDENCE = no confidence", !empty.Signal.Confidence.HasValue);
		T.VrevParseResult last = T.VrevSignalParser.Parse(f, good.Replace("CONFIDENCE=0.80\n", "").Replace("DROP=15.75\n", "DROP=15.75\nCONFIDENCE=0.5"));
		Check("CONFIDENCE as the last line without a newline", last.Signal != null && last.Signal.Confidence == 0.5);
		ExpectError("CONFIDENCE with spaces only", f, good.Replace("CONFIDENCE=0.80", "CONFIDENCE= "), ":16: CONFIDENCE");
		ExpectError("CONFIDENCE above 1", f, good.Replace("CONFIDENCE=0.80", "CONFIDENCE=1.5"), ":16: CONFIDENCE");
	}

	private static string SellFixtureWithSuffix()
	{
		// The new format: a SELL's ID ends in _SELL (the fixture already has it), and CONFIDENCE is left out.
		return File.ReadAllText(Fixture("vreversal_20250714"), Encoding.UTF8)
			.Replace("CONFIDENCE=0.70\n", "");
	}

	/// <summary>The files vrev replay wrote follow the new format: a SELL's ID (and so its file name)
	/// ends in _SELL and a BUY's does not; no empty CONFIDENCE= line.</summary>
	private static void RustNewFormat(string dir)
	{
		int sells = 0, buys = 0;
		foreach (string path in Directory.GetFiles(dir, "*.txt"))
		{
			string name = Path.GetFileName(path);
			T.VrevSignal s = T.VrevSignalParser.ParseFile(path).Signal;
			if (s == null)
				continue; // reported by the parse test
			bool suffix = s.Id.EndsWith("_SELL", StringComparison.Ordinal);
			if (s.Side == T.VrevSide.Sell) sells++; else buys++;
			Check(name + ": _SELL suffix exactly when ACTION=SELL", suffix == (s.Side == T.VrevSide.Sell));
			Check(name + ": no empty CONFIDENCE= line", !File.ReadAllText(path, Encoding.UTF8).Split('\n').Any(l => l.TrimEnd('\r') == "CONFIDENCE="));
		}
		Check("replay wrote SELL files (" + sells + ")", sells > 0);
		Check("replay wrote BUY files (" + buys + ")", buys > 0);
	}

	private static void RustExitFiles(string dir)
	{
		foreach (string path in Directory.GetFiles(dir, "*.exit"))
		{
			string name = Path.GetFileName(path);
			T.VrevExitParseResult r = T.VrevExitParser.Parse(name, File.ReadAllText(path, Encoding.UTF8));
			Check(name + " parses (" + r.Error + ")", r.Exit != null);
			if (r.Exit != null)
			{
				Eq(name + " is <prefix><SIGNAL_ID>.exit", "vreversal_" + r.Exit.Id + ".exit", name);
				Check(name + " has a signal file beside it", File.Exists(Path.Combine(dir, "vreversal_" + r.Exit.Id + ".txt")));
			}
		}
	}

	private static string BuyOfSameBar()
	{
		// A BUY on the same bar with the same anchors: the ID without a suffix.
		return File.ReadAllText(Fixture("vreversal_20250714"), Encoding.UTF8)
			.Replace("SIGNAL_ID=20250714_095000_6290.00_6301.25_SELL\n", "SIGNAL_ID=20250714_095000_6290.00_6301.25\n")
			.Replace("ACTION=SELL", "ACTION=BUY").Replace("STOP_LOSS=6296.50", "STOP_LOSS=6284.00")
			.Replace("TAKE_PROFIT=6287.25", "TAKE_PROFIT=6293.25").Replace("CONFIDENCE=0.70\n", "");
	}

	private static void SellSuffixIds()
	{
		string sellText = SellFixtureWithSuffix();
		Check("fixture rewrite applied", sellText.Contains("_SELL\n") && !sellText.Contains("CONFIDENCE"));
		T.VrevParseResult sell = T.VrevSignalParser.Parse("vreversal_20250714_095000_6290.00_6301.25_SELL.txt", sellText);
		Check("_SELL file parses (" + sell.Error + ")", sell.Signal != null);
		T.VrevParseResult buy = T.VrevSignalParser.Parse("vreversal_20250714_095000_6290.00_6301.25.txt", BuyOfSameBar());
		Check("BUY of the same bar parses (" + buy.Error + ")", buy.Signal != null);
		if (sell.Signal == null || buy.Signal == null)
			return;
		Eq("SELL ID kept whole", "20250714_095000_6290.00_6301.25_SELL", sell.Signal.Id);
		Eq("side comes from ACTION", T.VrevSide.Sell, sell.Signal.Side);
		Eq("BUY ID", "20250714_095000_6290.00_6301.25", buy.Signal.Id);
		Eq("BUY side", T.VrevSide.Buy, buy.Signal.Side);
		Eq("SELL signal name", "vrev_20250714_095000_6290.00_6301.25_SELL", T.VrevSignalName.For(sell.Signal.Id));
		Check("BUY and SELL signal names differ", T.VrevSignalName.For(sell.Signal.Id) != T.VrevSignalName.For(buy.Signal.Id));
		// The ID is an opaque key: _SELL on a BUY (or no suffix on a SELL) is not second-guessed.
		T.VrevParseResult odd = T.VrevSignalParser.Parse("x.txt", BuyOfSameBar().Replace("SIGNAL_ID=20250714_095000_6290.00_6301.25\n", "SIGNAL_ID=20250714_095000_6290.00_6301.25_SELL\n"));
		Check("ID suffix does not decide the side", odd.Signal != null && odd.Signal.Side == T.VrevSide.Buy);
		// De-duplication keeps them apart.
		string dir = TempDir();
		T.VrevProcessedStore store = new T.VrevProcessedStore(Path.Combine(dir, "processed_Sim101.txt"));
		store.Load();
		Check("BUY recorded", store.Add(buy.Signal.Id, T.VrevProcessedStore.Accepted, Day("2025-07-14")));
		T.VrevRules r = new T.VrevRules();
		r.Eastern = Et();
		r.Windows.Add(new T.VrevWindow(new TimeSpan(9, 0, 0), new TimeSpan(11, 0, 0)));
		T.VrevDecision d = T.VrevRules.Decide(r, sell.Signal, Utc("2025-07-14T13:50:00Z"), store, true, 6290.25);
		Eq("SELL of the same bar is not a duplicate of the BUY", T.VrevDecisionKind.Execute, d.Kind);
		Check("SELL recorded separately", store.Add(sell.Signal.Id, T.VrevProcessedStore.Accepted, Day("2025-07-14")));
		T.VrevProcessedStore reloaded = new T.VrevProcessedStore(store.Path);
		reloaded.Load();
		Eq("both IDs survive a reload", 2, reloaded.Count);
		Eq("SELL outcome after reload", T.VrevProcessedStore.Accepted, reloaded.OutcomeOf("20250714_095000_6290.00_6301.25_SELL"));
		Eq("the BUY itself is still a duplicate", T.VrevDecisionKind.Duplicate, T.VrevRules.Decide(r, buy.Signal, Utc("2025-07-14T13:50:00Z"), reloaded, true, 6290.25).Kind);
	}

	private static void FileFilter()
	{
		const string p = "vreversal_";
		Check("signal file", T.VrevSignalFiles.IsCandidate("vreversal_20250213_135900_6107.25_6091.50.txt", p));
		Check("temporary dot file", !T.VrevSignalFiles.IsCandidate(".vreversal_20250213_135900_6107.25_6091.50.txt.tmp", p));
		Check("hidden .txt", !T.VrevSignalFiles.IsCandidate(".vreversal_x.txt", p));
		Check(".tmp", !T.VrevSignalFiles.IsCandidate("vreversal_x.tmp", p));
		Check(".TMP", !T.VrevSignalFiles.IsCandidate("vreversal_x.txt.TMP", p));
		Check("not .txt", !T.VrevSignalFiles.IsCandidate("trades.csv", p));
		// Only the configured prefix (issue 24): a notes.txt is never a signal.
		Check("notes.txt is not a signal", !T.VrevSignalFiles.IsCandidate("notes.txt", p));
		Check("prefix is case-sensitive", !T.VrevSignalFiles.IsCandidate("VREVERSAL_20250213_135900_1_2.txt", p));
		Check("the prefix alone + .txt is read (and then refused: no ID matches)", T.VrevSignalFiles.IsCandidate("vreversal_.txt", p));
		Check("another prefix", T.VrevSignalFiles.IsCandidate("orb_20250213_135900_1_2.txt", "orb_") && !T.VrevSignalFiles.IsCandidate("vreversal_20250213_135900_1_2.txt", "orb_"));
		// Exit files share the prefix; neither kind is taken for the other.
		Eq("exit file", T.VrevFileKind.Exit, T.VrevSignalFiles.KindOf("vreversal_20250213_135900_6107.25_6091.50.exit", p));
		Eq("signal file kind", T.VrevFileKind.Signal, T.VrevSignalFiles.KindOf("vreversal_20250213_135900_6107.25_6091.50.txt", p));
		Check("an exit is not a signal", !T.VrevSignalFiles.IsCandidate("vreversal_20250213_135900_6107.25_6091.50.exit", p));
		Eq("temporary exit", T.VrevFileKind.None, T.VrevSignalFiles.KindOf(".vreversal_20250213_135900_6107.25_6091.50.exit.tmp", p));
		Eq("exit without the prefix", T.VrevFileKind.None, T.VrevSignalFiles.KindOf("close_all.exit", p));
		// vrev's signals-folder lock (issue 20) is never a signal nor an exit, whatever the prefix.
		Eq("the folder's lock", T.VrevFileKind.None, T.VrevSignalFiles.KindOf(".vrev-lock", p));
		Eq("the folder's lock, prefix `.`", T.VrevFileKind.None, T.VrevSignalFiles.KindOf(".vrev-lock", "."));
		Eq("exit file name", "vreversal_20250213_135900_6107.25_6091.50.exit", T.VrevSignalFiles.ExitFileName(p, "20250213_135900_6107.25_6091.50"));
		Eq("signal file name", "vreversal_20250213_135900_6107.25_6091.50.txt", T.VrevSignalFiles.SignalFileName(p, "20250213_135900_6107.25_6091.50"));
		Check("prefix vreversal_ is fine", T.VrevSignalFiles.PrefixProblem(p) == null);
		Check("empty prefix refused", T.VrevSignalFiles.PrefixProblem("") != null);
		Check("prefix with a path refused", T.VrevSignalFiles.PrefixProblem("..\\x_") != null);
		Check("prefix with a wildcard refused", T.VrevSignalFiles.PrefixProblem("*") != null);
	}

	private static void ProcessedStore()
	{
		string dir = TempDir();
		string path = Path.Combine(dir, "processed_Sim101.txt");
		T.VrevProcessedStore a = new T.VrevProcessedStore(path);
		a.Load();
		Eq("empty store", 0, a.Count);
		Check("add new", a.Add("20250213_135900_6107.25_6091.50", T.VrevProcessedStore.Accepted, Day("2025-02-13")));
		Check("add again is a no-op", !a.Add("20250213_135900_6107.25_6091.50", "stale", Day("2025-02-13")));
		a.Add("20250213_140500_1_2", "stale", Day("2025-02-13"));
		a.Add("20250213_141000_1_2", T.VrevProcessedStore.Accepted, Day("2025-02-13"));
		Check("no temporary file left", !File.Exists(path + ".tmp"));
		File.AppendAllText(path, "garbage-without-tabs\n");

		T.VrevProcessedStore b = new T.VrevProcessedStore(path); // "restart"
		b.Load();
		Eq("IDs after restart", 3, b.Count);
		Check("contains first", b.Contains("20250213_135900_6107.25_6091.50"));
		Eq("outcome kept", "stale", b.OutcomeOf("20250213_140500_1_2"));
		Eq("accepted per trading day", 2, b.AcceptedOn(Day("2025-02-13")));
		Eq("other day", 0, b.AcceptedOn(Day("2025-02-14")));
		Check("unknown", !b.Contains("nope"));
		b.Add("X", "window", Day("2025-02-14"));
		T.VrevProcessedStore c = new T.VrevProcessedStore(path);
		c.Load();
		Eq("third instance sees all", 4, c.Count);
	}

	private static T.VrevSignal Sig(string fixturePrefix)
	{
		return T.VrevSignalParser.ParseFile(Fixture(fixturePrefix)).Signal;
	}

	private static T.VrevRules DefaultRules()
	{
		T.VrevRules r = new T.VrevRules();
		r.Eastern = Et();
		r.Instrument = "ES";
		r.Windows.Add(new T.VrevWindow(new TimeSpan(3, 0, 0), new TimeSpan(4, 0, 0)));
		r.Windows.Add(new T.VrevWindow(new TimeSpan(9, 0, 0), new TimeSpan(11, 0, 0)));
		r.Windows.Add(new T.VrevWindow(new TimeSpan(13, 30, 0), new TimeSpan(15, 0, 0)));
		return r;
	}

	private static void Staleness()
	{
		T.VrevSignal s = Sig("vreversal_20250213"); // EXPIRES 2025-02-13T19:00:30Z
		Check("data time == EXPIRES is not stale", !T.VrevRules.IsStale(s, Utc("2025-02-13T19:00:30Z")));
		Check("1 s after EXPIRES is stale", T.VrevRules.IsStale(s, Utc("2025-02-13T19:00:31Z")));
		Check("signal bar time is not stale", !T.VrevRules.IsStale(s, Utc("2025-02-13T18:59:00Z")));
		T.VrevRules r = DefaultRules();
		// The wall clock (years later) plays no part: only data time counts.
		Eq("decide at signal time (wall clock is much later)", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, s, Utc("2025-02-13T18:59:00Z"), null, true, 6107.0).Kind);
		Eq("decide before signal time waits", T.VrevDecisionKind.Wait, T.VrevRules.Decide(r, s, Utc("2025-02-13T18:58:00Z"), null, true, 6107.0).Kind);
		T.VrevDecision stale = T.VrevRules.Decide(r, s, Utc("2025-02-13T19:01:00Z"), null, true, 6107.0);
		Eq("decide after EXPIRES", "stale", stale.Reason);
	}

	private static void Windows()
	{
		TimeZoneInfo et = Et();
		List<T.VrevWindow> w = DefaultRules().Windows;
		// 2025-03-10 is a Monday after the spring DST change (EDT, UTC-4).
		Check("13:30 EDT start inclusive", T.VrevSession.InWindow(Utc("2025-03-10T17:30:00Z"), et, w));
		Check("13:29:59 EDT outside", !T.VrevSession.InWindow(Utc("2025-03-10T17:29:59Z"), et, w));
		Check("14:59:59 EDT inside", T.VrevSession.InWindow(Utc("2025-03-10T18:59:59Z"), et, w));
		Check("15:00 EDT end exclusive", !T.VrevSession.InWindow(Utc("2025-03-10T19:00:00Z"), et, w));
		// 2025-03-07 is a Friday before the change (EST, UTC-5).
		Check("13:30 EST inside", T.VrevSession.InWindow(Utc("2025-03-07T18:30:00Z"), et, w));
		Check("13:30 UTC-4 reading on an EST day is 12:30 ET: outside", !T.VrevSession.InWindow(Utc("2025-03-07T17:30:00Z"), et, w));
		Check("09:00 EST inside", T.VrevSession.InWindow(Utc("2025-03-07T14:00:00Z"), et, w));
		Check("11:00 EST outside", !T.VrevSession.InWindow(Utc("2025-03-07T16:00:00Z"), et, w));
		Check("03:00 EST inside", T.VrevSession.InWindow(Utc("2025-11-03T08:00:00Z"), et, w));
		Check("04:00 EST outside", !T.VrevSession.InWindow(Utc("2025-11-03T09:00:00Z"), et, w));
		Check("Saturday 09:30 ET outside", !T.VrevSession.InWindow(Utc("2025-03-08T14:30:00Z"), et, w));
		Check("Sunday 09:30 ET outside", !T.VrevSession.InWindow(Utc("2025-03-09T13:30:00Z"), et, w));
		Check("Sunday 2025-11-02 13:45 ET outside", !T.VrevSession.InWindow(Utc("2025-11-02T18:45:00Z"), et, w));
		// Window weekday is the ET day even when UTC is already the next day.
		Check("Friday 21:00 ET = Saturday UTC, no window anyway", !T.VrevSession.InWindow(Utc("2025-03-08T02:00:00Z"), et, w));

		T.VrevWindow parsed;
		string error;
		Check("parse 13:30-15:00", T.VrevWindow.TryParse("13:30", "15:00", out parsed, out error) && parsed.Start == new TimeSpan(13, 30, 0));
		Check("reject 25:00", !T.VrevWindow.TryParse("25:00", "26:00", out parsed, out error));
		Check("end before start wraps past midnight", T.VrevWindow.TryParse("18:00", "02:00", out parsed, out error) && parsed.Wraps);
		Check("13:30-15:00 does not wrap", T.VrevWindow.TryParse("13:30", "15:00", out parsed, out error) && !parsed.Wraps);
		Check("reject end equal to start", !T.VrevWindow.TryParse("15:00", "15:00", out parsed, out error) && error.Contains("same as start"));
		Check("reject text", !T.VrevWindow.TryParse("9am", "11:00", out parsed, out error));
	}

	private static void TradingDay()
	{
		TimeZoneInfo et = Et();
		Eq("Mon 17:59 ET", Day("2025-03-10"), T.VrevSession.TradingDay(Utc("2025-03-10T21:59:00Z"), et));
		Eq("Mon 18:00 ET rolls", Day("2025-03-11"), T.VrevSession.TradingDay(Utc("2025-03-10T22:00:00Z"), et));
		Eq("Mon 18:05 ET -> Tue", Day("2025-03-11"), T.VrevSession.TradingDay(Utc("2025-03-10T22:05:00Z"), et));
		Eq("Fri 18:30 EST -> Mon", Day("2025-02-17"), T.VrevSession.TradingDay(Utc("2025-02-14T23:30:00Z"), et));
		Eq("Sat -> Mon", Day("2025-02-17"), T.VrevSession.TradingDay(Utc("2025-02-15T15:00:00Z"), et));
		// DST Sunday 2025-03-09 (clocks 02:00 EST -> 03:00 EDT): 18:00 EDT = 22:00Z.
		Eq("2025-03-09 17:59 EDT (Sunday) -> Mon", Day("2025-03-10"), T.VrevSession.TradingDay(Utc("2025-03-09T21:59:00Z"), et));
		Eq("2025-03-09 18:00 EDT -> Mon", Day("2025-03-10"), T.VrevSession.TradingDay(Utc("2025-03-09T22:00:00Z"), et));
		Eq("2025-03-09 01:30 EST -> Mon", Day("2025-03-10"), T.VrevSession.TradingDay(Utc("2025-03-09T06:30:00Z"), et));
		Eq("2025-03-08 23:00Z = Sat 18:00 EST -> Mon", Day("2025-03-10"), T.VrevSession.TradingDay(Utc("2025-03-08T23:00:00Z"), et));
		// Fall-back Sunday 2025-11-02 (02:00 EDT -> 01:00 EST): 18:00 EST = 23:00Z.
		Eq("2025-11-02 17:59 EST (Sunday) -> Mon", Day("2025-11-03"), T.VrevSession.TradingDay(Utc("2025-11-02T22:59:00Z"), et));
		Eq("2025-11-02 18:00 EST -> Mon", Day("2025-11-03"), T.VrevSession.TradingDay(Utc("2025-11-02T23:00:00Z"), et));
		Eq("2025-11-03 17:59 EST Monday", Day("2025-11-03"), T.VrevSession.TradingDay(Utc("2025-11-03T22:59:00Z"), et));
		Eq("2025-11-03 18:00 EST -> Tue", Day("2025-11-04"), T.VrevSession.TradingDay(Utc("2025-11-03T23:00:00Z"), et));
		Eq("2025-10-31 (Fri) 18:00 EDT -> Mon 11-03", Day("2025-11-03"), T.VrevSession.TradingDay(Utc("2025-10-31T22:00:00Z"), et));
		Eq("2025-10-31 (Fri) 17:59 EDT", Day("2025-10-31"), T.VrevSession.TradingDay(Utc("2025-10-31T21:59:00Z"), et));
	}

	private static void Rules()
	{
		T.VrevSignal buy = Sig("vreversal_20250213");
		T.VrevSignal sell = Sig("vreversal_20250714");
		DateTime tb = Utc("2025-02-13T18:59:00Z"), ts = Utc("2025-07-14T13:50:00Z");
		T.VrevRules r = DefaultRules();
		Eq("sell executes", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, sell, ts, null, true, 6290.25).Kind);
		r.EnableBuy = false;
		Eq("buy disabled", "buy_disabled", T.VrevRules.Decide(r, buy, tb, null, true, 6107).Reason);
		Eq("sell still enabled", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, sell, ts, null, true, 6290.25).Kind);
		r = DefaultRules();
		r.EnableSell = false;
		Eq("sell disabled", "sell_disabled", T.VrevRules.Decide(r, sell, ts, null, true, 6290.25).Reason);
		r = DefaultRules();
		r.Instrument = "MES";
		Eq("instrument mismatch", "instrument", T.VrevRules.Decide(r, buy, tb, null, true, 6107).Reason);
		r.Instrument = null;
		Eq("instrument not checked", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, buy, tb, null, true, 6107).Kind);
		r = DefaultRules();
		r.Windows.Clear();
		r.Windows.Add(new T.VrevWindow(new TimeSpan(9, 0, 0), new TimeSpan(11, 0, 0)));
		Eq("outside window", "window", T.VrevRules.Decide(r, buy, tb, null, true, 6107).Reason);

		string dir = TempDir();
		T.VrevProcessedStore store = new T.VrevProcessedStore(Path.Combine(dir, "p.txt"));
		r = DefaultRules();
		r.MaxSignalsPerDay = 2;
		store.Add("a", T.VrevProcessedStore.Accepted, Day("2025-02-13"));
		Eq("1 of 2 used", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, buy, tb, store, true, 6107).Kind);
		store.Add("b", "stale", Day("2025-02-13"));
		Eq("rejections do not count", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, buy, tb, store, true, 6107).Kind);
		store.Add("c", T.VrevProcessedStore.Accepted, Day("2025-02-13"));
		Eq("cap reached", "daily_limit", T.VrevRules.Decide(r, buy, tb, store, true, 6107).Reason);
		store.Add(buy.Id, T.VrevProcessedStore.Accepted, Day("2025-02-13"));
		Eq("duplicate comes first", T.VrevDecisionKind.Duplicate, T.VrevRules.Decide(r, buy, tb, store, true, 6107).Kind);

		r = DefaultRules();
		Eq("position open", "position_open", T.VrevRules.Decide(r, buy, tb, null, false, 6107).Reason);
		Eq("price through stop", "price_moved", T.VrevRules.Decide(r, buy, tb, null, true, 6100.75).Reason);
		Eq("price through target", "price_moved", T.VrevRules.Decide(r, buy, tb, null, true, 6110.00).Reason);
		Eq("sell price through stop", "price_moved", T.VrevRules.Decide(r, sell, ts, null, true, 6296.50).Reason);
		Eq("no price yet", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, buy, tb, null, true, 0).Kind);
	}

	private static void Exits()
	{
		Eq("stop", T.VrevExitKind.Stop, T.VrevExits.Classify("Stop loss"));
		Eq("target", T.VrevExitKind.Target, T.VrevExits.Classify("Profit target"));
		Eq("max hold", T.VrevExitKind.MaxHold, T.VrevExits.Classify(VrevAutoTrader.MaxHoldExitName));
		Eq("session close", T.VrevExitKind.Other, T.VrevExits.Classify("Exit on session close"));
		Eq("manual", T.VrevExitKind.Other, T.VrevExits.Classify("Close position"));
		Eq("null", T.VrevExitKind.Other, T.VrevExits.Classify(null));
		Eq("labels", "stop,target,max_hold,other", string.Join(",", new[] { T.VrevExitKind.Stop, T.VrevExitKind.Target, T.VrevExitKind.MaxHold, T.VrevExitKind.Other }.Select(T.VrevExits.Label)));
		Eq("deadline", Utc("2025-02-13T19:25:00Z"), T.VrevExits.MaxHoldDeadline(Utc("2025-02-13T19:00:00Z"), 25));

		T.VrevSignal buy = Sig("vreversal_20250213");
		T.VrevTradeTracker t = new T.VrevTradeTracker(buy, "vrev_" + buy.Id, 3, 50.0);
		Check("not due before entry", !t.IsMaxHoldDue(Utc("2025-02-13T23:00:00Z")));
		t.OnEntryFill(6107.25, 1, Utc("2025-02-13T19:00:00Z"));
		t.OnEntryFill(6107.50, 2, Utc("2025-02-13T19:00:01Z"));
		Eq("deadline from first fill", Utc("2025-02-13T19:25:00Z"), t.Deadline.Value);
		Check("not due at 19:24:59", !t.IsMaxHoldDue(Utc("2025-02-13T19:24:59Z")));
		Check("due at 19:25:00", t.IsMaxHoldDue(Utc("2025-02-13T19:25:00Z")));
		Check("partial exit keeps trade open", t.OnExitFill(6110.00, 1, Utc("2025-02-13T19:05:00Z"), T.VrevExitKind.Target) == null);
		T.VrevTradeRecord rec = t.OnExitFill(6110.00, 2, Utc("2025-02-13T19:05:00Z"), T.VrevExitKind.Target);
		Check("trade done", rec != null);
		Eq("avg entry", 6107.4166667, Math.Round(rec.EntryPrice, 7));
		Eq("points", 2.5833333, Math.Round(rec.Points, 7));
		Eq("pnl", 387.50, rec.PnlCurrency);
		Eq("csv", "20250213_135900_6107.25_6091.50,BUY,3,2025-02-13T19:00:00Z,6107.41666667,2025-02-13T19:05:00Z,6110.00,target,2.58333333,387.50", T.VrevTradeLog.FormatLine(rec));
	}

	// ------------------------------------------------------------------ time

	private static void TimeConversion()
	{
		TimeZoneInfo ny = Feed.VrevTime.FindZone("America/New_York");
		TimeZoneInfo ny2 = Feed.VrevTime.FindZone("Eastern Standard Time");
		Check("Windows id resolves (directly or via fallback)", ny2 != null);
		Eq("EST", Utc("2025-02-13T18:59:00Z"), Feed.VrevTime.ToUtc(Local("2025-02-13 13:59:00"), ny, null));
		Eq("EDT", Utc("2025-07-14T13:50:00Z"), Feed.VrevTime.ToUtc(Local("2025-07-14 09:50:00"), ny2, null));
		Eq("ambiguous 01:30 -> first (EDT)", Utc("2025-11-02T05:30:00Z"), Feed.VrevTime.ToUtc(Local("2025-11-02 01:30:00"), ny, Utc("2025-11-02T05:29:00Z")));
		Eq("ambiguous 01:30 after 01:59 EDT -> second (EST)", Utc("2025-11-02T06:30:00Z"), Feed.VrevTime.ToUtc(Local("2025-11-02 01:30:00"), ny, Utc("2025-11-02T05:59:00Z")));
		Eq("spring gap 02:30 read as standard", Utc("2025-03-09T07:30:00Z"), Feed.VrevTime.ToUtc(Local("2025-03-09 02:30:00"), ny, null));
		Eq("already UTC", Utc("2025-03-09T07:30:00Z"), Feed.VrevTime.ToUtc(Utc("2025-03-09T07:30:00Z"), ny, null));
		Eq("strategy copy agrees", Feed.VrevTime.ToUtc(Local("2025-11-02 01:30:00"), ny, Utc("2025-11-02T05:59:00Z")), T.VrevTime.ToUtc(Local("2025-11-02 01:30:00"), ny, Utc("2025-11-02T05:59:00Z")));
		Eq("format", "2025-02-13T18:59:00.000Z", Feed.VrevTime.FormatUtc(Utc("2025-02-13T18:59:00Z")));
		Eq("alternate id", "America/New_York", Feed.VrevTime.AlternateId("Eastern Standard Time"));
		bool threw = false;
		try { Feed.VrevTime.FindZone("Nowhere/Zone"); } catch (TimeZoneNotFoundException) { threw = true; }
		Check("unknown zone throws a clear error", threw);
		DateTime p;
		Check("parse Z", Feed.VrevTime.TryParseUtc("2025-02-13T18:59:00Z", out p) && p == Utc("2025-02-13T18:59:00Z") && p.Kind == DateTimeKind.Utc);
		Check("parse millis", Feed.VrevTime.TryParseUtc("2025-02-13T18:59:00.000Z", out p) && p == Utc("2025-02-13T18:59:00Z"));
		Check("parse offset", Feed.VrevTime.TryParseUtc("2025-02-13T13:59:00-05:00", out p) && p == Utc("2025-02-13T18:59:00Z"));
		Check("reject local", !Feed.VrevTime.TryParseUtc("2025-02-13 18:59:00", out p));
	}

	// ------------------------------------------------------------------ publisher pieces

	private static void Lookback()
	{
		Eq("1 day of 1-min", 1440, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Days, 60, 5000, 10000000));
		Eq("1 week of 1-min", 10080, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Weeks, 60, 5000, 10000000));
		Eq("1 month (30 days) of 1-min", 43200, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Months, 60, 5000, 10000000));
		Eq("1 year (365 days) of 1-min", 525600, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Years, 60, 5000, 10000000));
		Eq("5 days of 5-min", 1440, Feed.VrevLookback.BarCount(5, Feed.VrevLookbackUnit.Days, 300, 5000, 10000000));
		Eq("1 day of 30-s", 2880, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Days, 30, 5000, 10000000));
		Eq("1 day of 60-min: minimum 100", 100, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Days, 3600, 5000, 10000000));
		Eq("1 year capped by max", 20000, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Years, 60, 5000, 20000));
		Eq("non-time bars use the bar count", 5000, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Years, 0, 5000, 20000));
		Eq("bar count capped", 20000, Feed.VrevLookback.BarCount(1, Feed.VrevLookbackUnit.Days, 0, 50000, 20000));
		Eq("minute period", 60, VrevPublisher.PeriodSeconds(BarsPeriodType.Minute, 1));
		Eq("5-minute period", 300, VrevPublisher.PeriodSeconds(BarsPeriodType.Minute, 5));
		Eq("second period", 30, VrevPublisher.PeriodSeconds(BarsPeriodType.Second, 30));
		Eq("day period", 86400, VrevPublisher.PeriodSeconds(BarsPeriodType.Day, 1));
		Eq("tick is non-time", 0, VrevPublisher.PeriodSeconds(BarsPeriodType.Tick, 2000));
		Eq("volume is non-time", 0, VrevPublisher.PeriodSeconds(BarsPeriodType.Volume, 1000));
		Eq("range is non-time", 0, VrevPublisher.PeriodSeconds(BarsPeriodType.Range, 4));
		Eq("renko is non-time", 0, VrevPublisher.PeriodSeconds(BarsPeriodType.Renko, 4));
	}

	private static void Handshake()
	{
		// RFC 6455 section 1.3: SHA-1 = b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be c4 ea,
		// base64 "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". (The value "s3pPLMBiTxaQ9kK6o4AnaeFZs8w=" quoted in
		// the task brief is not the RFC's and is not what any client computes.)
		Eq("RFC 6455 example", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Feed.VrevWebSocket.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
		Eq("RFC 6455 example hash bytes", "b37a4f2cc0624f1690f64606cf385945b2bec4ea", Hex(Convert.FromBase64String(Feed.VrevWebSocket.AcceptKey("dGhlIHNhbXBsZSBub25jZQ==")), 20));
		string req = "GET / HTTP/1.1\r\nHost: 127.0.0.1:6789\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
		string err, errResp;
		string resp = Feed.VrevWebSocket.BuildHandshakeResponse(req, out err, out errResp);
		Eq("101 response", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", resp);
		Check("plain HTTP refused", Feed.VrevWebSocket.BuildHandshakeResponse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", out err, out errResp) == null && errResp.StartsWith("HTTP/1.1 400"));
		Check("version 8 refused with 426", Feed.VrevWebSocket.BuildHandshakeResponse(req.Replace("Version: 13", "Version: 8"), out err, out errResp) == null && errResp.StartsWith("HTTP/1.1 426"));
		Check("bad key refused", Feed.VrevWebSocket.BuildHandshakeResponse(req.Replace("dGhlIHNhbXBsZSBub25jZQ==", "short"), out err, out errResp) == null);
		Check("POST refused", Feed.VrevWebSocket.BuildHandshakeResponse(req.Replace("GET", "POST"), out err, out errResp) == null);
		Check("header names are case-insensitive", Feed.VrevWebSocket.BuildHandshakeResponse(req.Replace("Sec-WebSocket-Key", "sec-websocket-key").Replace("Upgrade: websocket", "upgrade: WebSocket"), out err, out errResp) != null);
	}

	private static void Frames()
	{
		int[] lengths = { 0, 125, 126, 65535, 65536 };
		string[] headers = { "8100", "817d", "817e007e", "817effff", "817f0000000000010000" };
		for (int i = 0; i < lengths.Length; i++)
		{
			byte[] payload = new byte[lengths[i]];
			for (int k = 0; k < payload.Length; k++) payload[k] = (byte)(k * 7);
			byte[] frame = Feed.VrevWebSocket.EncodeFrame(Feed.VrevWebSocket.OpText, payload, null);
			int headerLen = headers[i].Length / 2;
			Eq("len " + lengths[i] + " header", headers[i], Hex(frame, headerLen));
			Eq("len " + lengths[i] + " total", headerLen + lengths[i], frame.Length);
			Check("len " + lengths[i] + " unmasked server payload", frame.Skip(headerLen).SequenceEqual(payload));
			int consumed;
			Feed.VrevFrame back = Feed.VrevWebSocket.DecodeFrame(frame, 0, frame.Length, 1 << 20, out consumed);
			Check("len " + lengths[i] + " decodes", back != null && back.Fin && back.Opcode == 1 && back.Payload.SequenceEqual(payload) && consumed == frame.Length);
			Check("len " + lengths[i] + " partial needs more", Feed.VrevWebSocket.DecodeFrame(frame, 0, frame.Length - 1, 1 << 20, out consumed) == null);
			byte[] mask = { 0x11, 0x22, 0x33, 0x44 };
			byte[] masked = Feed.VrevWebSocket.EncodeFrame(Feed.VrevWebSocket.OpText, payload, mask);
			Feed.VrevFrame fromStream = Feed.VrevWebSocket.ReadFrame(new MemoryStream(masked), 1 << 20, true);
			Check("len " + lengths[i] + " masked frame read from a stream", fromStream != null && fromStream.Payload.SequenceEqual(payload));
		}
		// RFC 6455 section 5.7: a masked "Hello" from a client.
		byte[] hello = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
		int used;
		Feed.VrevFrame f = Feed.VrevWebSocket.DecodeFrame(hello, 0, hello.Length, 1000, out used);
		Eq("RFC masked Hello unmasked", "Hello", Encoding.UTF8.GetString(f.Payload));
		Eq("RFC masked Hello encodes identically", Hex(hello, 11), Hex(Feed.VrevWebSocket.EncodeFrame(1, Encoding.UTF8.GetBytes("Hello"), new byte[] { 0x37, 0xfa, 0x21, 0x3d }), 11));
		Eq("RFC unmasked Hello", "810548656c6c6f", Hex(Feed.VrevWebSocket.EncodeText("Hello"), 7));
		Check("stream at end gives null", Feed.VrevWebSocket.ReadFrame(new MemoryStream(new byte[0]), 100, true) == null);
		Check("unmasked client frame refused", Throws<Feed.VrevProtocolException>(() => Feed.VrevWebSocket.ReadFrame(new MemoryStream(Feed.VrevWebSocket.EncodeText("x")), 100, true)));
		Check("oversized frame refused", Throws<Feed.VrevProtocolException>(() => Feed.VrevWebSocket.ReadFrame(new MemoryStream(Feed.VrevWebSocket.EncodeFrame(1, new byte[200], new byte[4])), 100, true)));
		Check("fragmented ping refused", Throws<Feed.VrevProtocolException>(() => Feed.VrevWebSocket.ReadFrame(new MemoryStream(new byte[] { 0x09, 0x80, 0, 0, 0, 0 }), 100, true)));
		Check("RSV bits refused", Throws<Feed.VrevProtocolException>(() => Feed.VrevWebSocket.ReadFrame(new MemoryStream(new byte[] { 0xC1, 0x80, 0, 0, 0, 0 }), 100, true)));
		Check("truncated frame", Throws<EndOfStreamException>(() => Feed.VrevWebSocket.ReadFrame(new MemoryStream(new byte[] { 0x81, 0x85, 1, 2 }), 100, true)));
	}

	private static bool Throws<TE>(Action a) where TE : Exception
	{
		try { a(); }
		catch (TE) { return true; }
		catch (Exception) { return false; }
		return false;
	}

	private static void Json()
	{
		Check("thread culture is de-DE", Thread.CurrentThread.CurrentCulture.Name == "de-DE");
		Feed.VrevBar bar = new Feed.VrevBar(Utc("2025-02-13T18:59:00Z"), 6107.25, 6108.5, 6106.0, 6107.0, 1234);
		Eq("bar", "{\"type\":\"bar\",\"symbol\":\"ES 03-25\",\"open\":6107.25,\"high\":6108.5,\"low\":6106.0,\"close\":6107.0,\"volume\":1234,\"timestamp\":\"2025-02-13T18:59:00.000Z\"}", Feed.VrevJson.Bar("bar", "ES 03-25", bar));
		Eq("historical bar", "{\"type\":\"historical_bar\",\"symbol\":\"ES 03-25\",\"open\":6107.25,\"high\":6108.5,\"low\":6106.0,\"close\":6107.0,\"volume\":1234,\"timestamp\":\"2025-02-13T18:59:00.000Z\"}", Feed.VrevJson.Bar("historical_bar", "ES 03-25", bar));
		Eq("hello (protocol.md example)", "{\"type\":\"hello\",\"protocol\":1,\"instrument\":\"ES 03-25\",\"bar_period_seconds\":60,\"tick_size\":0.25,\"point_value\":50.0}", Feed.VrevJson.Hello("ES 03-25", 60, 0.25, 50.0));
		Eq("start", "{\"type\":\"historical_start\",\"count\":3}", Feed.VrevJson.HistoricalStart(3));
		Eq("end", "{\"type\":\"historical_end\",\"sent\":3}", Feed.VrevJson.HistoricalEnd(3));
		Eq("tick", "{\"type\":\"tick\",\"symbol\":\"ES 03-25\",\"price\":6107.75,\"volume\":2,\"timestamp\":\"2025-02-13T18:59:01.250Z\"}", Feed.VrevJson.Tick("ES 03-25", 6107.75, 2, Utc("2025-02-13T18:59:01Z").AddMilliseconds(250)));
		Eq("binary noise dropped", "6107.25", Feed.VrevJson.Number(6107.2499999999995));
		Eq("MES micro tick", "0.25", Feed.VrevJson.Number(0.25));
		Eq("small number", "0.00001", Feed.VrevJson.Number(0.00001));
		Eq("quote escapes", "\"a\\\"b\\\\c\\n\"", Feed.VrevJson.Quote("a\"b\\c\n"));

		DateTime? after;
		string error;
		Check("subscribe after time", Feed.VrevJson.TryParseSubscribe("{\"type\":\"subscribe\",\"after\":\"2025-02-13T18:59:00Z\"}", out after, out error) && after == Utc("2025-02-13T18:59:00Z"));
		Check("subscribe after null", Feed.VrevJson.TryParseSubscribe("{ \"type\" : \"subscribe\" , \"after\" : null }", out after, out error) && !after.HasValue);
		Check("subscribe without after", Feed.VrevJson.TryParseSubscribe("{\"type\":\"subscribe\"}", out after, out error) && !after.HasValue);
		Check("subscribe with millis", Feed.VrevJson.TryParseSubscribe("{\"type\":\"subscribe\",\"after\":\"2025-02-13T18:59:00.000Z\"}", out after, out error) && after == Utc("2025-02-13T18:59:00Z"));
		Check("not subscribe", !Feed.VrevJson.TryParseSubscribe("{\"type\":\"hello\"}", out after, out error));
		Check("bad after", !Feed.VrevJson.TryParseSubscribe("{\"type\":\"subscribe\",\"after\":\"yesterday\"}", out after, out error) && error.Contains("after"));
		Check("not JSON", !Feed.VrevJson.TryParseSubscribe("pong", out after, out error));
		Check("trailing garbage", !Feed.VrevJson.TryParseSubscribe("{\"type\":\"subscribe\"} x", out after, out error));
		Dictionary<string, object> map;
		Check("flat object with numbers/bools", Feed.VrevJson.TryParseFlatObject("{\"a\":1.5,\"b\":true,\"c\":\"\\u0041\"}", out map) && (double)map["a"] == 1.5 && (bool)map["b"] && (string)map["c"] == "A");
	}

	private static void History()
	{
		Feed.VrevHistoryBuffer h = new Feed.VrevHistoryBuffer(3);
		DateTime t0 = Utc("2025-02-13T18:55:00Z");
		for (int i = 0; i < 5; i++)
			Check("add bar " + i, h.Add(new Feed.VrevBar(t0.AddMinutes(i), 1, 1, 1, 1, i)));
		Check("duplicate time refused", !h.Add(new Feed.VrevBar(t0.AddMinutes(4), 1, 1, 1, 1, 9)));
		Check("older time refused", !h.Add(new Feed.VrevBar(t0.AddMinutes(1), 1, 1, 1, 1, 9)));
		Eq("capacity keeps the newest", 3, h.Count);
		Eq("all", "2,3,4", string.Join(",", h.SelectAfter(null).Select(b => b.Volume.ToString(CultureInfo.InvariantCulture))));
		Eq("after 18:57 (exclusive)", "3,4", string.Join(",", h.SelectAfter(t0.AddMinutes(2)).Select(b => b.Volume.ToString(CultureInfo.InvariantCulture))));
		Eq("after 18:57:30", "3,4", string.Join(",", h.SelectAfter(t0.AddMinutes(2.5)).Select(b => b.Volume.ToString(CultureInfo.InvariantCulture))));
		Eq("after last", 0, h.SelectAfter(t0.AddMinutes(4)).Count);
		Eq("after far past", 3, h.SelectAfter(t0.AddDays(-10)).Count);
	}

	// ------------------------------------------------------------------ strategy flows

	private static VrevAutoTrader NewTrader(string signals, string state, string instrumentMaster, int maxQuantity, int pollMs)
	{
		VrevAutoTrader s = new VrevAutoTrader();
		s.TestHookSetState(State.SetDefaults);
		s.SignalsFolder = signals;
		s.StateFolder = state;
		s.MaxQuantity = maxQuantity;
		s.PollIntervalMilliseconds = pollMs;
		s.ChartTimeZoneId = "America/New_York";
		s.TestHookSetInstrument(instrumentMaster + " 03-25", instrumentMaster, 0.25, instrumentMaster == "MES" ? 5.0 : 50.0);
		s.TestHookSetState(State.Configure);
		s.TestHookSetState(State.DataLoaded);
		s.TestHookSetState(State.Historical);
		return s;
	}

	private static void GoLive(VrevAutoTrader s)
	{
		s.TestHookSetState(State.Transition);
		s.TestHookSetState(State.Realtime);
	}

	private static void Bar(NinjaScriptBase s, string etLocal, double close)
	{
		s.TestHookBar(Local(etLocal), close, close + 0.5, close - 0.5, close, 100);
	}

	private static string CallsText(StrategyBase s)
	{
		return string.Join(" ", s.TestHookCallsSnapshot().Select(c => c.ToString()));
	}

	private static void StrategyDefaults()
	{
		VrevAutoTrader s = new VrevAutoTrader();
		s.TestHookSetState(State.SetDefaults);
		Eq("name", "VrevAutoTrader", s.Name);
		Eq("calculate", Calculate.OnBarClose, s.Calculate);
		Eq("managed", false, s.IsUnmanaged);
		Eq("entries per direction", 1, s.EntriesPerDirection);
		Eq("bars required", 0, s.BarsRequiredToTrade);
		Eq("max quantity", 3, s.MaxQuantity);
		Eq("prefix", "vreversal_", s.SignalFilePrefix);
		Eq("max stop", 30.0, s.MaxStopPoints);
		Eq("max target", 60.0, s.MaxTargetPoints);
		Eq("max signal life", 300, s.MaxSignalLifeSeconds);
		Eq("max hold cap", 1440, s.MaxHoldMinutes);
		Eq("poll ms", 500, s.PollIntervalMilliseconds);
		Eq("max per day", 20, s.MaxSignalsPerDay);
		Eq("windows", "03:00-04:00 09:00-11:00 13:30-15:00", s.Window1Start + "-" + s.Window1End + " " + s.Window2Start + "-" + s.Window2End + " " + s.Window3Start + "-" + s.Window3End);
		Check("buy and sell enabled", s.EnableBuy && s.EnableSell);
		Check("instrument checked", s.CheckInstrument);
		Check("signals folder under Documents/vrev", s.SignalsFolder.EndsWith(Path.Combine("vrev", "signals")));
	}

	private static void BuyFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = NewTrader(signals, state, "ES", 3, 3600000);
		Bar(s, "2025-02-13 13:57:00", 6106.0); // historical
		File.Copy(Fixture("vreversal_20250213"), Path.Combine(signals, Path.GetFileName(Fixture("vreversal_20250213"))));
		Bar(s, "2025-02-13 13:58:00", 6106.5); // still historical: never acted on
		Eq("no orders while historical", 0, s.TestHookCallsSnapshot().Count);
		GoLive(s);
		string id = "20250213_135900_6107.25_6091.50", name = "vrev_" + id;
		s.TestHookMarketData(MarketDataType.Last, 6106.75, 1, Local("2025-02-13 13:58:30"));
		Eq("data time before SIGNAL_TIME: waits", 0, s.TestHookCallsSnapshot().Count);
		Bar(s, "2025-02-13 13:59:00", 6107.0);
		List<TestHookOrderCall> calls = s.TestHookCallsSnapshot();
		Eq("three calls: " + CallsText(s), 3, calls.Count);
		if (calls.Count == 3)
		{
			Eq("1st SetStopLoss", "SetStopLoss", calls[0].Method);
			Eq("stop from entry signal", name, calls[0].FromEntrySignal);
			Eq("stop mode", CalculationMode.Price, calls[0].Mode);
			Eq("stop price", 6101.00, calls[0].Value);
			Eq("stop not simulated", false, calls[0].IsSimulatedStop);
			Eq("2nd SetProfitTarget", "SetProfitTarget", calls[1].Method);
			Eq("target from entry signal", name, calls[1].FromEntrySignal);
			Eq("target mode", CalculationMode.Price, calls[1].Mode);
			Eq("target price", 6110.00, calls[1].Value);
			Eq("3rd EnterLong", "EnterLong", calls[2].Method);
			Eq("entry signal name", name, calls[2].SignalName);
			Eq("quantity 3 = QUANTITY (Max quantity 3)", 3, calls[2].Quantity);
		}
		Eq("accepted persisted", T.VrevProcessedStore.Accepted, new Func<string>(() => { T.VrevProcessedStore p = new T.VrevProcessedStore(Path.Combine(state, "processed_Sim101.txt")); p.Load(); return p.OutcomeOf(id); })());

		s.TestHookExecute(name, "", true, 6107.25, 3, Local("2025-02-13 14:00:00"));
		Bar(s, "2025-02-13 14:00:00", 6107.5);
		Bar(s, "2025-02-13 14:24:00", 6107.5);
		Eq("no exit before the deadline", 3, s.TestHookCallsSnapshot().Count);
		s.TestHookMarketData(MarketDataType.Last, 6108.0, 1, Local("2025-02-13 14:24:59"));
		Eq("no exit at 14:24:59", 3, s.TestHookCallsSnapshot().Count);
		Bar(s, "2025-02-13 14:25:00", 6108.0);
		calls = s.TestHookCallsSnapshot();
		Eq("max hold exit submitted: " + CallsText(s), 4, calls.Count);
		if (calls.Count == 4)
		{
			Eq("ExitLong", "ExitLong", calls[3].Method);
			Eq("exit name", VrevAutoTrader.MaxHoldExitName, calls[3].SignalName);
			Eq("exit from entry", name, calls[3].FromEntrySignal);
		}
		Bar(s, "2025-02-13 14:26:00", 6108.0);
		Eq("exit requested once", 4, s.TestHookCallsSnapshot().Count);
		s.TestHookExecute(VrevAutoTrader.MaxHoldExitName, name, false, 6108.00, 3, Local("2025-02-13 14:26:00"));
		string log = Path.Combine(state, "trades_Sim101.csv");
		Check("trade log written", File.Exists(log));
		if (File.Exists(log))
		{
			string[] lines = File.ReadAllLines(log);
			Eq("header", T.VrevTradeLog.Header, lines[0]);
			Eq("trade line", id + ",BUY,3,2025-02-13T19:00:00Z,6107.25,2025-02-13T19:26:00Z,6108.00,max_hold,0.75,112.50", lines.Length > 1 ? lines[1] : "");
		}
		s.TestHookSetState(State.Terminated);
	}

	private static void SellFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = NewTrader(signals, state, "ES", 2, 3600000);
		GoLive(s);
		File.Copy(Fixture("vreversal_20250714"), Path.Combine(signals, Path.GetFileName(Fixture("vreversal_20250714"))));
		Bar(s, "2025-07-14 09:50:00", 6290.25);
		List<TestHookOrderCall> calls = s.TestHookCallsSnapshot();
		string name = "vrev_20250714_095000_6290.00_6301.25_SELL";
		Eq("three calls: " + CallsText(s), 3, calls.Count);
		if (calls.Count == 3)
		{
			Eq("SetStopLoss first", "SetStopLoss", calls[0].Method);
			Eq("sell stop", 6296.50, calls[0].Value);
			Eq("SetProfitTarget second", "SetProfitTarget", calls[1].Method);
			Eq("sell target", 6287.25, calls[1].Value);
			Eq("EnterShort third", "EnterShort", calls[2].Method);
			Eq("sell qty 1 (below cap)", 1, calls[2].Quantity);
			Eq("sell name", name, calls[2].SignalName);
			Check("modes are Price", calls[0].Mode == CalculationMode.Price && calls[1].Mode == CalculationMode.Price);
		}
		// A second signal while the position is open is refused.
		string second = File.ReadAllText(Fixture("vreversal_20250714")).Replace("20250714_095000_6290.00_6301.25", "20250714_095100_6290.00_6301.25").Replace("13:50:00Z", "13:51:00Z").Replace("13:51:30Z", "13:52:30Z");
		File.WriteAllText(Path.Combine(signals, "vreversal_20250714_095100_6290.00_6301.25_SELL.txt"), second);
		s.TestHookExecute(name, "", false, 6290.00, 1, Local("2025-07-14 09:50:01"));
		Bar(s, "2025-07-14 09:51:00", 6291.0);
		Eq("no entry while in a position", 3, s.TestHookCallsSnapshot().Count);
		Check("refusal logged", s.TestHookOutputSnapshot().Any(l => l.Contains("20250714_095100") && l.Contains("position_open")));
		s.TestHookExecute("Stop loss", name, true, 6296.50, 1, Local("2025-07-14 09:58:00"));
		string[] lines = File.ReadAllLines(Path.Combine(state, "trades_Sim101.csv"));
		Eq("stop trade line", "20250714_095000_6290.00_6301.25_SELL,SELL,1,2025-07-14T13:50:01Z,6290.00,2025-07-14T13:58:00Z,6296.50,stop,-6.50,-325.00", lines.Length > 1 ? lines[1] : "");
		s.TestHookSetState(State.Terminated);
	}

	private static void RestartFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader first = NewTrader(signals, state, "ES", 3, 3600000);
		GoLive(first);
		File.Copy(Fixture("vreversal_20250213"), Path.Combine(signals, "vreversal_20250213_135900_6107.25_6091.50.txt"));
		Bar(first, "2025-02-13 13:59:00", 6107.0);
		Eq("first run enters", 3, first.TestHookCallsSnapshot().Count);
		Eq("first run quantity 3 (cap 3)", 3, first.TestHookCallsSnapshot().Last().Quantity);
		first.TestHookSetState(State.Terminated);

		VrevAutoTrader second = NewTrader(signals, state, "ES", 3, 3600000); // NinjaTrader restarted
		GoLive(second);
		Bar(second, "2025-02-13 13:59:00", 6107.0);
		Bar(second, "2025-02-13 14:00:00", 6107.0);
		Eq("restart: no second entry", 0, second.TestHookCallsSnapshot().Count);
		second.TestHookSetState(State.Terminated);
	}

	private static void RejectFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = NewTrader(signals, state, "MES", 2, 3600000);
		GoLive(s);
		// Stale: the MES fixture expires 03:06:30 ET; the first data time we see is 03:07.
		File.Copy(Fixture("vreversal_20251103"), Path.Combine(signals, Path.GetFileName(Fixture("vreversal_20251103"))));
		// Wrong instrument: a current ES signal on an MES chart.
		File.WriteAllText(Path.Combine(signals, "vreversal_20251103_030700_5850.50_5846.00.txt"), File.ReadAllText(Fixture("vreversal_20251103"))
			.Replace("20251103_030500", "20251103_030700").Replace("08:05:00Z", "08:07:00Z").Replace("08:06:30Z", "08:08:30Z").Replace("INSTRUMENT=MES", "INSTRUMENT=ES"));
		// Temporary file being written: never read even though its content is valid.
		string tmp = Path.Combine(signals, ".vreversal_20251103_030600_1_2.txt.tmp");
		File.WriteAllText(tmp, File.ReadAllText(Fixture("vreversal_20251103")).Replace("030500", "030600").Replace("08:05:00Z", "08:07:00Z").Replace("08:06:30Z", "08:08:30Z"));
		// Malformed file.
		string bad = Path.Combine(signals, "vreversal_bad.txt");
		File.WriteAllText(bad, Reference().Replace("ACTION=BUY", "ACTION=HOLD"));
		Bar(s, "2025-11-03 03:07:00", 5850.0);
		Eq("no orders: " + CallsText(s), 0, s.TestHookCallsSnapshot().Count);
		Check("stale logged", s.TestHookOutputSnapshot().Any(l => l.Contains("20251103_030500") && l.Contains("stale")));
		Check("instrument logged", s.TestHookOutputSnapshot().Any(l => l.Contains("20251103_030700") && l.Contains("(instrument)")));
		Check("malformed file moved to rejected/", !File.Exists(bad) && File.Exists(Path.Combine(Path.Combine(signals, "rejected"), "vreversal_bad.txt")));
		Eq("malformed logged once with file and line", 1, s.TestHookOutputSnapshot().Count(l => l.Contains("vreversal_bad.txt:3:")));
		Check("temporary file untouched", File.Exists(tmp));
		Bar(s, "2025-11-03 03:08:00", 5850.0);
		Bar(s, "2025-11-03 03:09:00", 5850.0);
		Eq("malformed never retried", 1, s.TestHookOutputSnapshot().Count(l => l.Contains("vreversal_bad.txt")));
		Eq("stale logged once", 1, s.TestHookOutputSnapshot().Count(l => l.Contains("20251103_030500") && l.Contains("stale")));
		T.VrevProcessedStore p = new T.VrevProcessedStore(Path.Combine(state, "processed_Sim101.txt"));
		p.Load();
		Eq("stale recorded", "stale", p.OutcomeOf("20251103_030500_5850.50_5846.00"));
		Eq("instrument recorded", "instrument", p.OutcomeOf("20251103_030700_5850.50_5846.00"));
		s.TestHookSetState(State.Terminated);
	}

	private static void TimerFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = NewTrader(signals, state, "ES", 3, 200);
		GoLive(s);
		Bar(s, "2025-02-13 13:59:00", 6107.0); // data time 18:59Z; the file is not there yet
		Eq("nothing yet", 0, s.TestHookCallsSnapshot().Count);
		string dest = Path.Combine(signals, "vreversal_20250213_135900_6107.25_6091.50.txt");
		string temp = Path.Combine(signals, ".vreversal_20250213_135900_6107.25_6091.50.txt.tmp");
		File.WriteAllText(temp, Reference());
		File.Move(temp, dest); // atomic publish, like vrev
		// Waits for the condition; the bound only matters when the timer is broken.
		DateTime deadline = DateTime.UtcNow.AddSeconds(60);
		while (DateTime.UtcNow < deadline && s.TestHookCallsSnapshot().Count < 3)
			Thread.Sleep(50);
		List<TestHookOrderCall> calls = s.TestHookCallsSnapshot();
		Eq("timer alone submitted the entry: " + CallsText(s), 3, calls.Count);
		if (calls.Count == 3)
			Eq("timer entry quantity 3", 3, calls[2].Quantity);
		s.TestHookSetState(State.Terminated);
		Thread.Sleep(400);
		Eq("no activity after Terminated", 3, s.TestHookCallsSnapshot().Count);
	}

	private static T.VrevProcessedStore LoadStore(string state)
	{
		T.VrevProcessedStore p = new T.VrevProcessedStore(Path.Combine(state, "processed_Sim101.txt"));
		p.Load();
		return p;
	}

	private static void NewFormatFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = NewTrader(signals, state, "ES", 2, 3600000);
		GoLive(s);
		string buyId = "20250714_095000_6290.00_6301.25", sellId = buyId + "_SELL";
		File.WriteAllText(Path.Combine(signals, "vreversal_" + buyId + ".txt"), BuyOfSameBar());
		File.WriteAllText(Path.Combine(signals, "vreversal_" + sellId + ".txt"), SellFixtureWithSuffix());
		Bar(s, "2025-07-14 09:50:00", 6290.25);
		List<TestHookOrderCall> calls = s.TestHookCallsSnapshot();
		// Same signal time: decided by ID, so the BUY (shorter ID) comes first; one position at a time.
		Eq("BUY entered: " + CallsText(s), 3, calls.Count);
		if (calls.Count == 3)
		{
			Eq("EnterLong", "EnterLong", calls[2].Method);
			Eq("BUY signal name", "vrev_" + buyId, calls[2].SignalName);
			Eq("BUY stop", 6284.00, calls[0].Value);
		}
		Check("SELL refused as position_open, not as a duplicate", s.TestHookOutputSnapshot().Any(l => l.Contains("signal " + sellId + " rejected (position_open)")));
		Check("no duplicate anywhere", !s.TestHookOutputSnapshot().Any(l => l.Contains("duplicate")));
		T.VrevProcessedStore p = LoadStore(state);
		Eq("BUY recorded", T.VrevProcessedStore.Accepted, p.OutcomeOf(buyId));
		Eq("SELL recorded under its own ID", "position_open", p.OutcomeOf(sellId));
		s.TestHookSetState(State.Terminated);

		// A _SELL signal on its own: entered short under its full ID, traded, logged with it.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = NewTrader(signals, state, "ES", 2, 3600000);
		GoLive(s);
		File.WriteAllText(Path.Combine(signals, "vreversal_" + sellId + ".txt"), SellFixtureWithSuffix());
		Bar(s, "2025-07-14 09:50:00", 6290.25);
		calls = s.TestHookCallsSnapshot();
		Eq("SELL entered: " + CallsText(s), 3, calls.Count);
		if (calls.Count == 3)
		{
			Eq("EnterShort", "EnterShort", calls[2].Method);
			Eq("SELL signal name", "vrev_" + sellId, calls[2].SignalName);
			Eq("SELL stop from its entry", "vrev_" + sellId, calls[0].FromEntrySignal);
		}
		Check("accepted line names the full ID", s.TestHookOutputSnapshot().Any(l => l.Contains("signal " + sellId + " accepted: SELL 1")));
		s.TestHookExecute("vrev_" + sellId, "", false, 6290.00, 1, Local("2025-07-14 09:50:01"));
		s.TestHookExecute("Profit target", "vrev_" + sellId, true, 6287.25, 1, Local("2025-07-14 09:53:00"));
		string[] lines = File.ReadAllLines(Path.Combine(state, "trades_Sim101.csv"));
		Eq("trade line with the _SELL ID", sellId + ",SELL,1,2025-07-14T13:50:01Z,6290.00,2025-07-14T13:53:00Z,6287.25,target,2.75,137.50", lines.Length > 1 ? lines[1] : "");
		s.TestHookSetState(State.Terminated);
	}

	private static void RefusedOnceFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = NewTrader(signals, state, "ES", 3, 3600000);
		GoLive(s);
		// "rejected" is a file here, so nothing can be moved away: the files stay in the folder.
		File.WriteAllText(Path.Combine(signals, "rejected"), "not a folder");
		string good = Reference();
		Dictionary<string, string> bad = new Dictionary<string, string>();
		bad["vreversal_dupkey.txt"] = good + "STOP_LOSS=6100.00\n";
		bad["vreversal_noequals.txt"] = good.Replace("PROFILE=production", "PROFILE production");
		bad["vreversal_action.txt"] = good.Replace("ACTION=BUY", "ACTION=FLAT");
		bad["vreversal_empty.txt"] = "";
		foreach (KeyValuePair<string, string> kv in bad)
			File.WriteAllText(Path.Combine(signals, kv.Key), kv.Value);
		// A good signal beside them is still executed.
		File.WriteAllText(Path.Combine(signals, "vreversal_20250213_135900_6107.25_6091.50.txt"), good.Replace("CONFIDENCE=0.80\n", ""));
		Bar(s, "2025-02-13 13:59:00", 6107.0);
		Bar(s, "2025-02-13 13:59:20", 6107.0);
		Bar(s, "2025-02-13 13:59:40", 6107.0);
		List<string> output = s.TestHookOutputSnapshot();
		Eq("duplicate key refused once with its line", 1, output.Count(l => l.Contains("vreversal_dupkey.txt:18: duplicate key STOP_LOSS (first on line 5)")));
		Eq("line without '=' refused once with its line", 1, output.Count(l => l.Contains("vreversal_noequals.txt:13: expected KEY=VALUE")));
		Eq("unknown ACTION refused once with its line", 1, output.Count(l => l.Contains("vreversal_action.txt:3: ACTION must be BUY or SELL, found 'FLAT'")));
		Eq("empty file refused once", 1, output.Count(l => l.Contains("vreversal_empty.txt:1: empty file")));
		foreach (string name in bad.Keys)
		{
			Eq(name + ": one line in all", 1, output.Count(l => l.Contains(name)));
			Check(name + " could not be moved and is still there", File.Exists(Path.Combine(signals, name)));
		}
		Check("the refusal says it could not be moved", output.Any(l => l.Contains("vreversal_empty.txt") && l.Contains("could not move")));
		Eq("good signal without CONFIDENCE entered: " + CallsText(s), 3, s.TestHookCallsSnapshot().Count);
		T.VrevProcessedStore p = LoadStore(state);
		foreach (string name in bad.Keys)
			Eq(name + " listed as refused", T.VrevProcessedStore.Refused, p.OutcomeOf("file:" + name));
		Eq("good signal listed as accepted", T.VrevProcessedStore.Accepted, p.OutcomeOf("20250213_135900_6107.25_6091.50"));
		s.TestHookSetState(State.Terminated);

		// NinjaTrader restarts: the files are still there, but are not read or logged again.
		VrevAutoTrader second = NewTrader(signals, state, "ES", 3, 3600000);
		GoLive(second);
		Bar(second, "2025-02-13 14:00:00", 6107.0);
		Bar(second, "2025-02-13 14:01:00", 6107.0);
		foreach (string name in bad.Keys)
			Eq(name + " not logged after the restart", 0, second.TestHookOutputSnapshot().Count(l => l.Contains(name)));
		Eq("no orders after the restart", 0, second.TestHookCallsSnapshot().Count);
		second.TestHookSetState(State.Terminated);

		// When it can be moved (the usual case): moved once and listed too.
		File.Delete(Path.Combine(signals, "rejected"));
		VrevAutoTrader third = NewTrader(signals, state, "ES", 3, 3600000);
		GoLive(third);
		File.WriteAllText(Path.Combine(signals, "vreversal_dupkey2.txt"), good + "ACTION=SELL\n");
		Bar(third, "2025-02-13 14:02:00", 6107.0);
		Bar(third, "2025-02-13 14:03:00", 6107.0);
		Eq("moved file logged once", 1, third.TestHookOutputSnapshot().Count(l => l.Contains("vreversal_dupkey2.txt:18: duplicate key ACTION") && l.Contains("moved to rejected")));
		Check("moved to rejected/", File.Exists(Path.Combine(Path.Combine(signals, "rejected"), "vreversal_dupkey2.txt")) && !File.Exists(Path.Combine(signals, "vreversal_dupkey2.txt")));
		Eq("moved file listed as refused", T.VrevProcessedStore.Refused, LoadStore(state).OutcomeOf("file:vreversal_dupkey2.txt"));
		third.TestHookSetState(State.Terminated);
	}

	private static void LockedFileFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = NewTrader(signals, state, "ES", 3, 3600000);
		GoLive(s);
		string path = Path.Combine(signals, "vreversal_20250213_135900_6107.25_6091.50.txt");
		File.WriteAllText(path, Reference());
		using (FileStream held = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
		{
			// mono emulates Windows share modes inside one process: the strategy cannot read it now.
			bool readable = true;
			try { File.ReadAllText(path); } catch (IOException) { readable = false; }
			Check("the test really holds the file exclusively", !readable);
			Bar(s, "2025-02-13 13:59:00", 6107.0);
			Bar(s, "2025-02-13 13:59:10", 6107.0);
			Bar(s, "2025-02-13 13:59:20", 6107.0);
		}
		Eq("no orders while the file is held", 0, s.TestHookCallsSnapshot().Count(c => c.Method == "EnterLong"));
		Eq("read failure logged once", 1, s.TestHookOutputSnapshot().Count(l => l.Contains("cannot read signal file vreversal_20250213_135900_6107.25_6091.50.txt")));
		Bar(s, "2025-02-13 13:59:30", 6107.0);
		Eq("read and entered once released: " + CallsText(s), 3, s.TestHookCallsSnapshot().Count);
		Check("not refused", LoadStore(state).OutcomeOf("file:vreversal_20250213_135900_6107.25_6091.50.txt") == null);
		s.TestHookSetState(State.Terminated);
	}

	private static void UnreadableFileFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = NewTrader(signals, state, "ES", 3, 3600000);
		GoLive(s);
		string name = "vreversal_20250213_135900_6107.25_6091.50.txt";
		string path = Path.Combine(signals, name);
		File.WriteAllText(path, Reference());
		File.WriteAllText(Path.Combine(signals, "rejected"), "not a folder"); // keep it in place
		DateTime t = Local("2025-02-13 13:59:00");
		using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
		{
			for (int i = 0; i < T.VrevSignalFiles.MaxReadAttempts + 5; i++)
				s.TestHookBar(t.AddMilliseconds(100 * i), 6107.0, 6107.5, 6106.5, 6107.0, 100);
		}
		Bar(s, "2025-02-13 13:59:40", 6107.0);
		Bar(s, "2025-02-13 13:59:50", 6107.0);
		List<string> output = s.TestHookOutputSnapshot();
		Eq("first failure logged once", 1, output.Count(l => l.Contains("cannot read signal file " + name)));
		Eq("refused once after " + T.VrevSignalFiles.MaxReadAttempts + " attempts", 1, output.Count(l => l.Contains(name + ":0: still cannot be read after " + T.VrevSignalFiles.MaxReadAttempts + " attempts")));
		Eq("two lines in all for it", 2, output.Count(l => l.Contains(name)));
		Eq("never read afterwards, even once readable", 0, s.TestHookCallsSnapshot().Count);
		Eq("listed as refused", T.VrevProcessedStore.Refused, LoadStore(state).OutcomeOf("file:" + name));
		s.TestHookSetState(State.Terminated);
	}

	// ------------------------------------------------------------------ protocol 2: exit plan, exit files, limits

	private const string RefId = "20250213_135900_6107.25_6091.50";
	private const string RefFile = "vreversal_" + RefId + ".txt";
	private const string RefName = "vrev_" + RefId;

	/// <summary>The reference BUY (entry 6107.00, stop 6101.00, QUANTITY 3, signal 13:59 ET) with a farther target and an exit plan.</summary>
	private static string PlanSignal(string planLines)
	{
		return Reference().Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=6125.00") + planLines + (planLines.Length > 0 ? "PROTOCOL=2\n" : "");
	}

	private static string ExitText(string id, string signalTimeUtc, string expiresUtc)
	{
		return "# vrev exit v2 (KEY=VALUE, '.' decimals, times in UTC)\nACTION=EXIT\nSIGNAL_ID=" + id + "\nREASON=lost vwap\nSIGNAL_TIME="
			+ signalTimeUtc + "\nEXPIRES=" + expiresUtc + "\nPROTOCOL=2\n";
	}

	private static VrevAutoTrader SimTrader(string signals, string state)
	{
		VrevAutoTrader s = NewTrader(signals, state, "ES", 3, 3600000);
		s.TestHookEnableFillSimulator(0.25, 1);
		GoLive(s);
		return s;
	}

	private static void SimBar(VrevAutoTrader s, string etLocal, double o, double h, double l, double c)
	{
		s.TestHookSimBar(Local(etLocal), o, h, l, c, 100);
	}

	/// <summary>What the poll timer does (scan, then TriggerCustomEvent), called at once.</summary>
	private static void Poll(VrevAutoTrader s)
	{
		typeof(VrevAutoTrader).GetMethod("OnPollTimer", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance).Invoke(s, new object[] { null });
	}

	private static string[] TradeLines(string state)
	{
		string path = Path.Combine(state, "trades_Sim101.csv");
		return File.Exists(path) ? File.ReadAllLines(path).Skip(1).ToArray() : new string[0];
	}

	private static List<TestHookOrderCall> CallsOf(StrategyBase s, string method)
	{
		return s.TestHookCallsSnapshot().Where(c => c.Method == method).ToList();
	}

	/// <summary>
	/// The signal bar (13:59 ET) closes, the file arrives and the timer reads it; the next bar
	/// (14:00) opens at 6107.00: entry fill 6107.25 (one tick of slippage), stamped 13:59:00 ET.
	/// </summary>
	private static void EnterReference(VrevAutoTrader s, string signals, string text, double entryBarClose)
	{
		SimBar(s, "2025-02-13 13:59:00", 6106.75, 6107.25, 6106.50, 6107.00);
		File.WriteAllText(Path.Combine(signals, RefFile), text);
		Poll(s);
		SimBar(s, "2025-02-13 14:00:00", 6107.00, Math.Max(6107.50, entryBarClose), 6106.75, entryBarClose);
	}

	private static void ProtocolParse()
	{
		string f = RefFile;
		T.VrevParseResult v1 = T.VrevSignalParser.Parse(f, Reference());
		Check("a file without PROTOCOL is protocol 1", v1.Signal != null && v1.Signal.Protocol == 1 && !v1.Signal.HasExitPlan);
		T.VrevParseResult plan = T.VrevSignalParser.Parse(f, PlanSignal("BREAKEVEN_AT_POINTS=6.50\nTRAIL_POINTS=3.00\nFLAT_BY_ET=2025-02-13 15:55:00\n"));
		Check("protocol 2 plan parses (" + plan.Error + ")", plan.Signal != null);
		if (plan.Signal != null)
		{
			Eq("PROTOCOL", 2, plan.Signal.Protocol);
			Eq("BREAKEVEN_AT_POINTS", 6.50, plan.Signal.BreakevenAtPoints.Value);
			Eq("TRAIL_POINTS", 3.00, plan.Signal.TrailPoints.Value);
			Eq("FLAT_BY_ET", Local("2025-02-13 15:55:00"), plan.Signal.FlatByEt.Value);
			Check("plan keys are not extras", !plan.Signal.Extras.ContainsKey("PROTOCOL") && !plan.Signal.Extras.ContainsKey("TRAIL_POINTS"));
			Eq("FLAT_BY_ET to UTC with the ET rules (EST)", Utc("2025-02-13T20:55:00Z"), T.VrevTime.ToUtc(plan.Signal.FlatByEt.Value, Et(), null));
		}
		Check("PROTOCOL=2 without a plan parses", T.VrevSignalParser.Parse(f, Reference() + "PROTOCOL=2\n").Signal != null);
		Check("PROTOCOL=1 with no plan parses", T.VrevSignalParser.Parse(f, Reference() + "PROTOCOL=1\n").Signal != null);
		ExpectError("PROTOCOL 3", f, PlanSignal("TRAIL_POINTS=3.00\n").Replace("PROTOCOL=2", "PROTOCOL=3"), ":19: PROTOCOL 3 is newer than protocol 2");
		ExpectError("PROTOCOL 3 refused before anything else", f, "SIGNAL_ID=x\nPROTOCOL=3\nNEW_THING=1\n", ":2: PROTOCOL 3 is newer");
		ExpectError("PROTOCOL 2.0", f, Reference() + "PROTOCOL=2.0\n", ":18: PROTOCOL '2.0' is not a whole number");
		ExpectError("PROTOCOL text", f, Reference() + "PROTOCOL=two\n", ":18: PROTOCOL 'two'");
		ExpectError("PROTOCOL 0", f, Reference() + "PROTOCOL=0\n", ":18: PROTOCOL '0'");
		ExpectError("PROTOCOL empty", f, Reference() + "PROTOCOL=\n", ":18: PROTOCOL ''");
		ExpectError("PROTOCOL huge", f, Reference() + "PROTOCOL=99999999999\n", ":18: PROTOCOL '99999999999'");
		ExpectError("plan key without PROTOCOL", f, Reference() + "TRAIL_POINTS=3.00\n", ":18: TRAIL_POINTS needs PROTOCOL=2");
		ExpectError("plan key with PROTOCOL=1", f, Reference() + "FLAT_BY_ET=2025-02-13 15:55:00\nPROTOCOL=1\n", ":18: FLAT_BY_ET needs PROTOCOL=2");
		ExpectError("BREAKEVEN_AT_POINTS 0", f, PlanSignal("BREAKEVEN_AT_POINTS=0\n"), ":18: BREAKEVEN_AT_POINTS '0'");
		ExpectError("TRAIL_POINTS negative", f, PlanSignal("TRAIL_POINTS=-3.00\n"), ":18: TRAIL_POINTS '-3.00'");
		ExpectError("TRAIL_POINTS comma", f, PlanSignal("TRAIL_POINTS=3,00\n"), ":18: TRAIL_POINTS");
		ExpectError("FLAT_BY_ET as UTC", f, PlanSignal("FLAT_BY_ET=2025-02-13T20:55:00Z\n"), ":18: FLAT_BY_ET");

		// Exit files (docs/protocol.md section 1b), the fixture is the example of that section.
		string fixture = Path.Combine(FixtureDir(), "vreversal_" + RefId + ".exit");
		T.VrevExitParseResult x = T.VrevExitParser.Parse(Path.GetFileName(fixture), File.ReadAllText(fixture, Encoding.UTF8));
		Check("exit fixture parses (" + x.Error + ")", x.Exit != null);
		if (x.Exit != null)
		{
			Eq("exit ID", RefId, x.Exit.Id);
			Eq("exit reason", "lost vwap", x.Exit.Reason);
			Eq("exit time", Utc("2025-02-13T19:10:00Z"), x.Exit.SignalTimeUtc);
			Eq("exit expires", Utc("2025-02-13T19:11:30Z"), x.Exit.ExpiresUtc);
			Eq("exit protocol", 2, x.Exit.Protocol);
		}
		string e = "vreversal_" + RefId + ".exit", good = ExitText(RefId, "2025-02-13T19:10:00Z", "2025-02-13T19:11:30Z");
		Check("exit without REASON parses", T.VrevExitParser.Parse(e, good.Replace("REASON=lost vwap\n", "")).Exit != null);
		ExpectExitError("exit ACTION=BUY", e, good.Replace("ACTION=EXIT", "ACTION=BUY"), ":2: ACTION of an exit file must be EXIT");
		ExpectExitError("exit without PROTOCOL", e, good.Replace("PROTOCOL=2\n", ""), "missing required key PROTOCOL");
		ExpectExitError("exit PROTOCOL 3", e, good.Replace("PROTOCOL=2", "PROTOCOL=3"), ":7: PROTOCOL 3 is newer");
		ExpectExitError("exit PROTOCOL 1", e, good.Replace("PROTOCOL=2", "PROTOCOL=1"), ":7: exit files are protocol 2");
		ExpectExitError("exit without SIGNAL_ID", e, good.Replace("SIGNAL_ID=" + RefId + "\n", ""), "missing required key SIGNAL_ID");
		ExpectExitError("exit bad time", e, good.Replace("SIGNAL_TIME=2025-02-13T19:10:00Z", "SIGNAL_TIME=19:10"), ":5: SIGNAL_TIME");
		ExpectExitError("exit expires before", e, good.Replace("EXPIRES=2025-02-13T19:11:30Z", "EXPIRES=2025-02-13T19:09:30Z"), ":6: EXPIRES is before SIGNAL_TIME");
		ExpectExitError("exit duplicate key", e, good + "ACTION=EXIT\n", ":8: duplicate key ACTION");
		ExpectExitError("empty exit", e, "", ":1: empty file");
		// A signal file is never an exit and vice versa.
		ExpectError("ACTION=EXIT in a .txt", f, Reference().Replace("ACTION=BUY", "ACTION=EXIT"), ":3: ACTION must be BUY or SELL");
	}

	private static void ExpectExitError(string what, string fileName, string text, string mustContain)
	{
		T.VrevExitParseResult r = T.VrevExitParser.Parse(fileName, text);
		Check(what + " is rejected", r.Exit == null && r.Error != null);
		if (r.Error != null)
		{
			Check(what + " error '" + r.Error + "' names the file", r.Error.StartsWith(fileName + ":", StringComparison.Ordinal));
			Check(what + " error '" + r.Error + "' contains '" + mustContain + "'", r.Error.Contains(mustContain));
		}
	}

	private static void ExitPlanRules()
	{
		double? best = null;
		double stop = 6101.00;
		T.VrevExitKind rule = T.VrevExitKind.Stop;
		// Breakeven 3.00 beyond the entry fill 6107.25: reached at a close of 6110.25, not 6110.00.
		Check("BE: 6110.00 not enough", !T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, 3.0, null, 6110.00, ref best, ref stop, ref rule));
		Check("BE: 6110.25 reaches it", T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, 3.0, null, 6110.25, ref best, ref stop, ref rule));
		Eq("BE stop = entry fill", 6107.25, stop);
		Eq("BE rule", T.VrevExitKind.Breakeven, rule);
		Check("BE: moves once only", !T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, 3.0, null, 6115.00, ref best, ref stop, ref rule));
		// SELL mirrored.
		best = null; stop = 6296.50; rule = T.VrevExitKind.Stop;
		Check("SELL BE: 6288.25 not enough", !T.VrevExitPlan.OnBarClose(T.VrevSide.Sell, 6290.00, 2.0, null, 6288.25, ref best, ref stop, ref rule));
		Check("SELL BE: 6288.00 reaches it", T.VrevExitPlan.OnBarClose(T.VrevSide.Sell, 6290.00, 2.0, null, 6288.00, ref best, ref stop, ref rule));
		Eq("SELL BE stop", 6290.00, stop);
		// Trail 2.00 behind the best close, only when strictly better.
		best = null; stop = 6101.00; rule = T.VrevExitKind.Stop;
		Check("trail from the entry bar's close", T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, null, 2.0, 6107.75, ref best, ref stop, ref rule));
		Eq("trail stop", 6105.75, stop);
		Eq("trail rule", T.VrevExitKind.Trail, rule);
		Check("lower close: no move", !T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, null, 2.0, 6106.00, ref best, ref stop, ref rule));
		Eq("best close kept", 6107.75, best.Value);
		Check("equal close: no move (not strictly better)", !T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, null, 2.0, 6107.75, ref best, ref stop, ref rule));
		Check("higher close moves it", T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, null, 2.0, 6109.00, ref best, ref stop, ref rule));
		Eq("trail stop 2", 6107.00, stop);
		// A trail that is not better than the stop in force does not move it (a wide trail).
		best = null; stop = 6101.00; rule = T.VrevExitKind.Stop;
		Check("wide trail: no move", !T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, null, 8.0, 6108.00, ref best, ref stop, ref rule));
		Eq("wide trail: still the signal's stop", T.VrevExitKind.Stop, rule);
		// SELL trail: lowest close + trail.
		best = null; stop = 6296.50; rule = T.VrevExitKind.Stop;
		Check("SELL trail", T.VrevExitPlan.OnBarClose(T.VrevSide.Sell, 6290.00, null, 3.0, 6289.00, ref best, ref stop, ref rule) && stop == 6292.00);
		Check("SELL trail: higher close no move", !T.VrevExitPlan.OnBarClose(T.VrevSide.Sell, 6290.00, null, 3.0, 6290.50, ref best, ref stop, ref rule));
		// Both on one bar: breakeven first, then the trail when it is better still; the last mover names the stop.
		best = null; stop = 6101.00; rule = T.VrevExitKind.Stop;
		T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, 3.0, 2.0, 6107.75, ref best, ref stop, ref rule);
		Check("both: BE then trail on one bar", T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, 3.0, 2.0, 6110.25, ref best, ref stop, ref rule));
		Eq("both: trail wins (6108.25 > 6107.25)", 6108.25, stop);
		Eq("both: named trail", T.VrevExitKind.Trail, rule);
		best = null; stop = 6101.00; rule = T.VrevExitKind.Stop;
		T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, 3.0, 4.0, 6107.75, ref best, ref stop, ref rule);
		Eq("both: the trail moved first", T.VrevExitKind.Trail, rule);
		Check("both: BE beats a wider trail", T.VrevExitPlan.OnBarClose(T.VrevSide.Buy, 6107.25, 3.0, 4.0, 6110.25, ref best, ref stop, ref rule));
		Eq("both: stop at the entry fill", 6107.25, stop);
		Eq("both: named breakeven", T.VrevExitKind.Breakeven, rule);
		// Labels of every exit reason of the trade log.
		Eq("labels", "stop,target,breakeven,trail,script_exit,flat_by,max_hold,other", string.Join(",", new[] {
			T.VrevExitKind.Stop, T.VrevExitKind.Target, T.VrevExitKind.Breakeven, T.VrevExitKind.Trail, T.VrevExitKind.ScriptExit,
			T.VrevExitKind.FlatBy, T.VrevExitKind.MaxHold, T.VrevExitKind.Other }.Select(T.VrevExits.Label)));
		Eq("flat-by order name", T.VrevExitKind.FlatBy, T.VrevExits.Classify(VrevAutoTrader.FlatByExitName));
		Eq("script exit order name", T.VrevExitKind.ScriptExit, T.VrevExits.Classify(VrevAutoTrader.ScriptExitName));
	}

	private static void WrappingWindows()
	{
		TimeZoneInfo et = Et();
		List<T.VrevWindow> evening = new List<T.VrevWindow> { new T.VrevWindow(new TimeSpan(18, 0, 0), new TimeSpan(2, 0, 0)) };
		// 2025-02-16 is a Sunday (EST, UTC-5).
		Check("Sunday 20:00 ET is Monday's session: in", T.VrevSession.InWindow(Utc("2025-02-17T01:00:00Z"), et, evening));
		Check("Sunday 18:00 ET start inclusive", T.VrevSession.InWindow(Utc("2025-02-16T23:00:00Z"), et, evening));
		Check("Sunday 17:59 ET out", !T.VrevSession.InWindow(Utc("2025-02-16T22:59:00Z"), et, evening));
		Check("Monday 01:59 ET in", T.VrevSession.InWindow(Utc("2025-02-17T06:59:00Z"), et, evening));
		Check("Monday 02:00 ET end exclusive", !T.VrevSession.InWindow(Utc("2025-02-17T07:00:00Z"), et, evening));
		Check("Monday 20:00 ET (Tuesday's) in", T.VrevSession.InWindow(Utc("2025-02-18T01:00:00Z"), et, evening));
		Check("Friday 01:00 ET (Friday's) in", T.VrevSession.InWindow(Utc("2025-02-14T06:00:00Z"), et, evening));
		Check("Friday 20:00 ET is Saturday's: out", !T.VrevSession.InWindow(Utc("2025-02-15T01:00:00Z"), et, evening));
		Check("Saturday 01:00 ET out", !T.VrevSession.InWindow(Utc("2025-02-15T06:00:00Z"), et, evening));
		Check("Saturday 20:00 ET (Sunday's) out", !T.VrevSession.InWindow(Utc("2025-02-16T01:00:00Z"), et, evening));
		Check("Thursday 12:00 ET out", !T.VrevSession.InWindow(Utc("2025-02-13T17:00:00Z"), et, evening));
		// DST Sunday 2025-03-09: 18:30 EDT = 22:30Z is Monday's session.
		Check("DST Sunday 18:30 EDT in", T.VrevSession.InWindow(Utc("2025-03-09T22:30:00Z"), et, evening));
		// A window from before 18:00 across midnight: its part before 18:00 belongs to that day.
		List<T.VrevWindow> late = new List<T.VrevWindow> { new T.VrevWindow(new TimeSpan(17, 0, 0), new TimeSpan(1, 0, 0)) };
		Check("Friday 17:30 ET (Friday's) in", T.VrevSession.InWindow(Utc("2025-02-14T22:30:00Z"), et, late));
		Check("Friday 18:30 ET (Saturday's) out", !T.VrevSession.InWindow(Utc("2025-02-14T23:30:00Z"), et, late));
		Check("Sunday 17:30 ET (Sunday's) out", !T.VrevSession.InWindow(Utc("2025-02-16T22:30:00Z"), et, late));
		Check("Sunday 18:30 ET (Monday's) in", T.VrevSession.InWindow(Utc("2025-02-16T23:30:00Z"), et, late));
		// Windows that do not wrap keep the calendar-day rule.
		List<T.VrevWindow> plain = new List<T.VrevWindow> { new T.VrevWindow(new TimeSpan(18, 30, 0), new TimeSpan(23, 0, 0)) };
		Check("non-wrapping Sunday 20:00 out (calendar day)", !T.VrevSession.InWindow(Utc("2025-02-17T01:00:00Z"), et, plain));
		Check("non-wrapping Friday 20:00 in (calendar day)", T.VrevSession.InWindow(Utc("2025-02-15T01:00:00Z"), et, plain));
		Eq("description", "18:00-02:00 (across midnight)", evening[0].ToString());
		// Through the rules: a Sunday-evening signal is in its window, a Friday-evening one is not.
		T.VrevRules r = new T.VrevRules();
		r.Eastern = et;
		r.Instrument = "ES";
		r.Windows.AddRange(evening);
		T.VrevSignal sunday = T.VrevSignalParser.Parse("x.txt", EveningSignal("20250216_200000_6100.00_6090.00", "2025-02-17T01:00:00Z", "2025-02-17T01:01:30Z")).Signal;
		Eq("Sunday-evening signal executes", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, sunday, sunday.SignalTimeUtc, null, true, 6100.0).Kind);
		T.VrevSignal friday = T.VrevSignalParser.Parse("x.txt", EveningSignal("20250214_200000_6100.00_6090.00", "2025-02-15T01:00:00Z", "2025-02-15T01:01:30Z")).Signal;
		Eq("Friday-evening signal refused", "window", T.VrevRules.Decide(r, friday, friday.SignalTimeUtc, null, true, 6100.0).Reason);
	}

	private static string EveningSignal(string id, string timeUtc, string expiresUtc)
	{
		return "SIGNAL_ID=" + id + "\nACTION=BUY\nENTRY_PRICE=6100.00\nSTOP_LOSS=6094.00\nTAKE_PROFIT=6103.00\nQUANTITY=1\nMAX_HOLD_MINUTES=25\nSIGNAL_TIME="
			+ timeUtc + "\nEXPIRES=" + expiresUtc + "\nINSTRUMENT=ES\n";
	}

	private static void LimitRules()
	{
		T.VrevRules r = DefaultRules();
		DateTime tb = Utc("2025-02-13T18:59:00Z");
		string good = Reference();
		Func<string, T.VrevDecision> decide = text => T.VrevRules.Decide(r, T.VrevSignalParser.Parse(RefFile, text).Signal, tb, null, true, 6107.0);
		Eq("reference fits the defaults", T.VrevDecisionKind.Execute, decide(good).Kind);
		Eq("QUANTITY 4 above Max quantity 3: refused, not capped", "max_quantity", decide(good.Replace("QUANTITY=3", "QUANTITY=4")).Reason);
		Check("max_quantity names the property", decide(good.Replace("QUANTITY=3", "QUANTITY=4")).Detail.Contains("Max quantity 3"));
		Eq("stop 30.00 points away passes", T.VrevDecisionKind.Execute, decide(good.Replace("STOP_LOSS=6101.00", "STOP_LOSS=6077.00")).Kind);
		Eq("stop 30.25 points away refused", "max_stop", decide(good.Replace("STOP_LOSS=6101.00", "STOP_LOSS=6076.75")).Reason);
		Eq("stop 0.25 below entry is fine (no minimum)", T.VrevDecisionKind.Execute, decide(good.Replace("STOP_LOSS=6101.00", "STOP_LOSS=6106.75")).Kind);
		Eq("target 60.00 points away passes", T.VrevDecisionKind.Execute, decide(good.Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=6167.00")).Kind);
		Eq("target 99999 refused", "max_target", decide(good.Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=99999.00")).Reason);
		Eq("EXPIRES 300 s after passes", T.VrevDecisionKind.Execute, decide(good.Replace("EXPIRES=2025-02-13T19:00:30Z", "EXPIRES=2025-02-13T19:04:00Z")).Kind);
		Eq("EXPIRES 301 s after refused", "max_signal_life", decide(good.Replace("EXPIRES=2025-02-13T19:00:30Z", "EXPIRES=2025-02-13T19:04:01Z")).Reason);
		Eq("EXPIRES in 2099 refused", "max_signal_life", decide(good.Replace("EXPIRES=2025-02-13T19:00:30Z", "EXPIRES=2099-01-01T00:00:00Z")).Reason);
		Eq("MAX_HOLD_MINUTES 1440 passes", T.VrevDecisionKind.Execute, decide(good.Replace("MAX_HOLD_MINUTES=25", "MAX_HOLD_MINUTES=1440")).Kind);
		Eq("MAX_HOLD_MINUTES 999999 refused", "max_hold", decide(good.Replace("MAX_HOLD_MINUTES=25", "MAX_HOLD_MINUTES=999999")).Reason);
		// A file beyond a limit is refused even before its time comes (it can never be executed).
		Eq("limits before not_yet", "max_target", T.VrevRules.Decide(r, T.VrevSignalParser.Parse(RefFile, good.Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=99999.00")).Signal, tb.AddMinutes(-5), null, true, 6107.0).Reason);
		// SELL distances are measured the other way.
		T.VrevSignal sell = Sig("vreversal_20250714");
		Eq("SELL fixture fits", T.VrevDecisionKind.Execute, T.VrevRules.Decide(r, sell, Utc("2025-07-14T13:50:00Z"), null, true, 6290.25).Kind);
		r.MaxStopPoints = 6.0;
		Eq("SELL stop 6.25 points above entry refused at Max stop 6", "max_stop", T.VrevRules.Decide(r, sell, Utc("2025-07-14T13:50:00Z"), null, true, 6290.25).Reason);
		r = DefaultRules();
		r.MaxTargetPoints = 2.75;
		Eq("SELL target 3.00 points below refused at Max target 2.75", "max_target", T.VrevRules.Decide(r, sell, Utc("2025-07-14T13:50:00Z"), null, true, 6290.25).Reason);
		// Exit files: the same signal-life limit.
		r = DefaultRules();
		T.VrevExitFile x = T.VrevExitParser.Parse("e.exit", ExitText(RefId, "2025-02-13T19:10:00Z", "2025-02-13T19:11:30Z")).Exit;
		Eq("exit executes for the held trade", T.VrevDecisionKind.Execute, T.VrevRules.DecideExit(r, x, Utc("2025-02-13T19:10:00Z"), null, RefId, true).Kind);
		Eq("exit waits before its time", T.VrevDecisionKind.Wait, T.VrevRules.DecideExit(r, x, Utc("2025-02-13T19:09:00Z"), null, RefId, true).Kind);
		Eq("exit waits while the entry is unfilled", T.VrevDecisionKind.Wait, T.VrevRules.DecideExit(r, x, Utc("2025-02-13T19:10:00Z"), null, RefId, false).Kind);
		Eq("exit at EXPIRES still executes", T.VrevDecisionKind.Execute, T.VrevRules.DecideExit(r, x, Utc("2025-02-13T19:11:30Z"), null, RefId, true).Kind);
		Eq("exit after EXPIRES is stale", "stale", T.VrevRules.DecideExit(r, x, Utc("2025-02-13T19:11:31Z"), null, RefId, true).Reason);
		Eq("exit of another trade", "not_held", T.VrevRules.DecideExit(r, x, Utc("2025-02-13T19:10:00Z"), null, "other", true).Reason);
		Eq("exit while flat", "not_held", T.VrevRules.DecideExit(r, x, Utc("2025-02-13T19:10:00Z"), null, null, false).Reason);
		T.VrevExitFile longLived = T.VrevExitParser.Parse("e.exit", ExitText(RefId, "2025-02-13T19:10:00Z", "2099-01-01T00:00:00Z")).Exit;
		Eq("exit living too long", "max_signal_life", T.VrevRules.DecideExit(r, longLived, Utc("2025-02-13T19:10:00Z"), null, RefId, true).Reason);
	}

	private static void BreakevenFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = SimTrader(signals, state);
		Check("start-up line names protocol 2", s.TestHookOutputSnapshot().Any(l => l.Contains("speaks vrev signal protocol 2")));
		Check("start-up line lists the limits", s.TestHookOutputSnapshot().Any(l => l.Contains("max quantity 3, max stop 30.00 points, max target 60.00 points, max signal life 300 s, max hold 1440 min")));
		EnterReference(s, signals, PlanSignal("BREAKEVEN_AT_POINTS=3.00\n"), 6107.75);
		Eq("entry filled at the open + 1 tick", "2025-02-13 13:59:00 " + RefName + " buy 3 @ 6107.25", s.TestHookSimFills.FirstOrDefault());
		Eq("no stop move yet", 1, CallsOf(s, "SetStopLoss").Count);
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6110.00, 6107.50, 6110.00); // 2.75 beyond the fill: not yet
		Eq("6110.00 is not 3.00 beyond 6107.25", 1, CallsOf(s, "SetStopLoss").Count);
		SimBar(s, "2025-02-13 14:02:00", 6110.00, 6110.50, 6109.50, 6110.25);
		List<TestHookOrderCall> stops = CallsOf(s, "SetStopLoss");
		Eq("breakeven moved the stop once", 2, stops.Count);
		if (stops.Count == 2)
		{
			Eq("to the entry fill", 6107.25, stops[1].Value);
			Eq("of this entry", RefName, stops[1].FromEntrySignal);
			Eq("price mode", CalculationMode.Price, stops[1].Mode);
			Check("not simulated", !stops[1].IsSimulatedStop);
		}
		Check("logged", s.TestHookOutputSnapshot().Any(l => l.Contains("stop of " + RefName + " moved to 6107.25 (breakeven)")));
		SimBar(s, "2025-02-13 14:03:00", 6110.00, 6111.00, 6109.00, 6110.50);
		Eq("no second move", 2, CallsOf(s, "SetStopLoss").Count);
		SimBar(s, "2025-02-13 14:04:00", 6110.50, 6110.75, 6107.00, 6107.50); // reaches 6107.25
		string[] trades = TradeLines(state);
		Eq("one trade", 1, trades.Length);
		if (trades.Length == 1)
			Eq("stop fill named breakeven", RefId + ",BUY,3,2025-02-13T18:59:00Z,6107.25,2025-02-13T19:04:00Z,6107.00,breakeven,-0.25,-37.50", trades[0]);
		Check("never SetTrailStop", !s.TestHookCallsSnapshot().Any(c => c.Method.Contains("Trail")));
		s.TestHookSetState(State.Terminated);
	}

	private static void TrailFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = SimTrader(signals, state);
		EnterReference(s, signals, PlanSignal("TRAIL_POINTS=2.00\n"), 6107.75);
		List<TestHookOrderCall> stops = CallsOf(s, "SetStopLoss");
		Eq("trail moves at the entry bar's close", 2, stops.Count);
		if (stops.Count == 2)
			Eq("best close 6107.75 - 2.00", 6105.75, stops[1].Value);
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6109.25, 6107.50, 6109.00);
		SimBar(s, "2025-02-13 14:02:00", 6109.00, 6109.25, 6108.00, 6108.50); // lower close: no move
		SimBar(s, "2025-02-13 14:03:00", 6108.50, 6109.25, 6108.00, 6109.00); // equal best close: no move
		stops = CallsOf(s, "SetStopLoss");
		Eq("moved only when strictly better: " + string.Join(" ", stops.Select(c => c.Value.ToString(CultureInfo.InvariantCulture))), 3, stops.Count);
		if (stops.Count == 3)
			Eq("trail stop", 6107.00, stops[2].Value);
		SimBar(s, "2025-02-13 14:04:00", 6108.50, 6108.75, 6106.50, 6107.00);
		string[] trades = TradeLines(state);
		Eq("one trade", 1, trades.Length);
		if (trades.Length == 1)
			Eq("stop fill named trail", RefId + ",BUY,3,2025-02-13T18:59:00Z,6107.25,2025-02-13T19:04:00Z,6106.75,trail,-0.50,-75.00", trades[0]);
		s.TestHookSetState(State.Terminated);

		// SELL, and a bar that opens through the trailed stop: the gap is still named trail.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = SimTrader(signals, state);
		string sellId = "20250714_095000_6290.00_6301.25_SELL";
		SimBar(s, "2025-07-14 09:50:00", 6290.50, 6290.75, 6290.00, 6290.25);
		File.WriteAllText(Path.Combine(signals, "vreversal_" + sellId + ".txt"), File.ReadAllText(Fixture("vreversal_20250714"))
			.Replace("TAKE_PROFIT=6287.25", "TAKE_PROFIT=6280.00") + "TRAIL_POINTS=3.00\nPROTOCOL=2\n");
		Poll(s);
		SimBar(s, "2025-07-14 09:51:00", 6290.25, 6290.50, 6288.75, 6289.00); // fill 6290.00; trail 6292.00
		SimBar(s, "2025-07-14 09:52:00", 6289.00, 6289.25, 6286.75, 6287.00); // trail 6290.00
		SimBar(s, "2025-07-14 09:53:00", 6291.00, 6291.50, 6290.75, 6291.25); // opens through 6290.00
		stops = CallsOf(s, "SetStopLoss");
		Eq("SELL trail stops", "6296.5 6292 6290", string.Join(" ", stops.Select(c => c.Value.ToString(CultureInfo.InvariantCulture))));
		trades = TradeLines(state);
		Eq("one SELL trade", 1, trades.Length);
		if (trades.Length == 1)
			Eq("gap through the trailed stop is named trail", sellId + ",SELL,1,2025-07-14T13:50:00Z,6290.00,2025-07-14T13:53:00Z,6291.25,trail,-1.25,-62.50", trades[0]);
		s.TestHookSetState(State.Terminated);
	}

	private static void BothRulesFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = SimTrader(signals, state);
		EnterReference(s, signals, PlanSignal("BREAKEVEN_AT_POINTS=3.00\nTRAIL_POINTS=2.00\n"), 6107.75); // trail 6105.75
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6110.50, 6107.50, 6110.25); // BE 6107.25, then trail 6108.25: one call
		List<TestHookOrderCall> stops = CallsOf(s, "SetStopLoss");
		Eq("both rules on one bar: one SetStopLoss with the better stop", "6101 6105.75 6108.25", string.Join(" ", stops.Select(c => c.Value.ToString(CultureInfo.InvariantCulture))));
		Check("logged as trail", s.TestHookOutputSnapshot().Any(l => l.Contains("moved to 6108.25 (trail)")));
		SimBar(s, "2025-02-13 14:02:00", 6110.00, 6110.25, 6108.00, 6108.50);
		Eq("stop fill named trail", "trail", TradeLines(state).Select(l => l.Split(',')[7]).FirstOrDefault());
		s.TestHookSetState(State.Terminated);

		// Breakeven beats a wider trail on the same bar: named breakeven.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = SimTrader(signals, state);
		EnterReference(s, signals, PlanSignal("BREAKEVEN_AT_POINTS=3.00\nTRAIL_POINTS=4.00\n"), 6107.75); // trail 6103.75
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6110.50, 6107.50, 6110.25); // BE 6107.25; trail 6106.25 not better
		SimBar(s, "2025-02-13 14:02:00", 6110.00, 6110.25, 6107.00, 6107.50);
		Eq("stops", "6101 6103.75 6107.25", string.Join(" ", CallsOf(s, "SetStopLoss").Select(c => c.Value.ToString(CultureInfo.InvariantCulture))));
		Eq("stop fill named breakeven", "breakeven", TradeLines(state).Select(l => l.Split(',')[7]).FirstOrDefault());
		s.TestHookSetState(State.Terminated);

		// A plan whose rules never fire: the stop fill is a plain stop; a target is a target.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = SimTrader(signals, state);
		EnterReference(s, signals, PlanSignal("BREAKEVEN_AT_POINTS=10.00\n"), 6107.75);
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6108.00, 6100.75, 6101.50);
		Eq("never moved: stop", RefId + ",BUY,3,2025-02-13T18:59:00Z,6107.25,2025-02-13T19:01:00Z,6100.75,stop,-6.50,-975.00", TradeLines(state).FirstOrDefault());
		s.TestHookSetState(State.Terminated);
	}

	private static void FlatByFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = SimTrader(signals, state);
		EnterReference(s, signals, PlanSignal("FLAT_BY_ET=2025-02-13 14:03:00\n"), 6107.75);
		Check("accepted line shows the plan in UTC", s.TestHookOutputSnapshot().Any(l => l.Contains("flat by 2025-02-13T19:03:00Z")));
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6108.25, 6107.50, 6108.00);
		SimBar(s, "2025-02-13 14:02:00", 6108.00, 6108.25, 6107.50, 6108.00);
		Eq("no exit before flat-by", 0, CallsOf(s, "ExitLong").Count);
		SimBar(s, "2025-02-13 14:03:00", 6108.00, 6108.75, 6107.75, 6108.50);
		List<TestHookOrderCall> exits = CallsOf(s, "ExitLong");
		Eq("flat-by exit at the close of the 14:03 bar", 1, exits.Count);
		if (exits.Count == 1)
		{
			Eq("named", VrevAutoTrader.FlatByExitName, exits[0].SignalName);
			Eq("from the entry", RefName, exits[0].FromEntrySignal);
		}
		Eq("trade", RefId + ",BUY,3,2025-02-13T18:59:00Z,6107.25,2025-02-13T19:03:00Z,6108.25,flat_by,1.00,150.00", TradeLines(state).FirstOrDefault());
		SimBar(s, "2025-02-13 14:04:00", 6108.00, 6108.25, 6107.50, 6108.00);
		Eq("one exit only", 1, CallsOf(s, "ExitLong").Count);
		s.TestHookSetState(State.Terminated);

		// Max hold due at the same close as flat-by: one exit, max hold first.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = SimTrader(signals, state);
		EnterReference(s, signals, PlanSignal("FLAT_BY_ET=2025-02-13 14:01:00\n").Replace("MAX_HOLD_MINUTES=25", "MAX_HOLD_MINUTES=2"), 6107.75);
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6108.25, 6107.50, 6108.00);
		Eq("one exit", 1, CallsOf(s, "ExitLong").Count);
		Eq("max hold first", "max_hold", TradeLines(state).Select(l => l.Split(',')[7]).FirstOrDefault());
		s.TestHookSetState(State.Terminated);
	}

	private static void ExitFileFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		string exitName = "vreversal_" + RefId + ".exit";
		VrevAutoTrader s = SimTrader(signals, state);
		EnterReference(s, signals, Reference().Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=6125.00"), 6107.75);
		// Another trade's exit, and an expired one, first: logged and ignored.
		File.WriteAllText(Path.Combine(signals, "vreversal_20250213_135000_1.00_2.00.exit"), ExitText("20250213_135000_1.00_2.00", "2025-02-13T19:00:00Z", "2025-02-13T19:01:30Z"));
		Poll(s);
		Check("exit of a trade not held is logged", s.TestHookOutputSnapshot().Any(l => l.Contains("exit 20250213_135000_1.00_2.00 ignored (not_held)")));
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6108.25, 6107.50, 6108.00);
		SimBar(s, "2025-02-13 14:02:00", 6108.00, 6108.75, 6107.75, 6108.50);
		Eq("no exit yet", 0, CallsOf(s, "ExitLong").Count);
		// The script asks to exit at the 14:02 close: the file arrives, the timer reads it.
		File.WriteAllText(Path.Combine(signals, exitName), ExitText(RefId, "2025-02-13T19:02:00Z", "2025-02-13T19:03:30Z"));
		Poll(s);
		List<TestHookOrderCall> exits = CallsOf(s, "ExitLong");
		Eq("script exit submitted", 1, exits.Count);
		if (exits.Count == 1)
		{
			Eq("named", VrevAutoTrader.ScriptExitName, exits[0].SignalName);
			Eq("from the entry", RefName, exits[0].FromEntrySignal);
		}
		Check("accepted line with the script's reason", s.TestHookOutputSnapshot().Any(l => l.Contains("exit " + RefId + " accepted (script: lost vwap)")));
		Eq("persisted", T.VrevProcessedStore.ExitAccepted, LoadStore(state).OutcomeOf("exit:" + RefId));
		Eq("an exit does not count as an accepted signal", 1, LoadStore(state).AcceptedOn(Day("2025-02-13")));
		SimBar(s, "2025-02-13 14:03:00", 6108.75, 6109.00, 6108.25, 6108.50); // fills at this open - 1 tick
		Eq("script exit at the next open", RefId + ",BUY,3,2025-02-13T18:59:00Z,6107.25,2025-02-13T19:02:00Z,6108.50,script_exit,1.25,187.50", TradeLines(state).FirstOrDefault());
		Poll(s);
		SimBar(s, "2025-02-13 14:04:00", 6108.50, 6108.75, 6108.25, 6108.50);
		Eq("exit executed once", 1, CallsOf(s, "ExitLong").Count);
		s.TestHookSetState(State.Terminated);

		// NinjaTrader restarts with the exit file still there: never executed or logged again.
		VrevAutoTrader second = SimTrader(signals, state);
		SimBar(second, "2025-02-13 14:02:00", 6108.00, 6108.75, 6107.75, 6108.50);
		Poll(second);
		SimBar(second, "2025-02-13 14:03:00", 6108.75, 6109.00, 6108.25, 6108.50);
		Eq("no exit after the restart", 0, second.TestHookCallsSnapshot().Count(c => c.Method.StartsWith("Exit")));
		Eq("not logged after the restart", 0, second.TestHookOutputSnapshot().Count(l => l.Contains("exit " + RefId)));
		second.TestHookSetState(State.Terminated);

		// An expired exit for the open trade: logged and ignored, the trade stays open.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = SimTrader(signals, state);
		EnterReference(s, signals, Reference().Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=6125.00"), 6107.75);
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6108.25, 6107.50, 6108.00);
		SimBar(s, "2025-02-13 14:02:00", 6108.00, 6108.75, 6107.75, 6108.50);
		File.WriteAllText(Path.Combine(signals, exitName), ExitText(RefId, "2025-02-13T19:00:00Z", "2025-02-13T19:01:30Z"));
		Poll(s);
		Eq("expired exit not executed", 0, CallsOf(s, "ExitLong").Count);
		Check("expired exit logged", s.TestHookOutputSnapshot().Any(l => l.Contains("exit " + RefId + " ignored (stale)")));
		Eq("recorded as stale", "stale", LoadStore(state).OutcomeOf("exit:" + RefId));
		s.TestHookSetState(State.Terminated);

		// An exit that arrives with its own signal waits for the entry's fill, then exits (here in
		// OnBarUpdate of the entry bar, so at its close).
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = SimTrader(signals, state);
		SimBar(s, "2025-02-13 13:59:00", 6106.75, 6107.25, 6106.50, 6107.00);
		File.WriteAllText(Path.Combine(signals, RefFile), Reference().Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=6125.00"));
		File.WriteAllText(Path.Combine(signals, exitName), ExitText(RefId, "2025-02-13T18:59:00Z", "2025-02-13T19:00:30Z"));
		Poll(s);
		Eq("entered, exit waiting", 1, CallsOf(s, "EnterLong").Count);
		Eq("no exit before the fill", 0, CallsOf(s, "ExitLong").Count);
		Check("waiting is not logged as ignored", !s.TestHookOutputSnapshot().Any(l => l.Contains("ignored")));
		SimBar(s, "2025-02-13 14:00:00", 6107.00, 6108.00, 6106.75, 6107.75);
		Eq("exit after the fill", 1, CallsOf(s, "ExitLong").Count);
		Eq("exit at the entry bar's close", RefId + ",BUY,3,2025-02-13T18:59:00Z,6107.25,2025-02-13T19:00:00Z,6107.50,script_exit,0.25,37.50", TradeLines(state).FirstOrDefault());
		s.TestHookSetState(State.Terminated);

		// Malformed or misnamed exit files are refused once; a .txt with ACTION=EXIT is not an exit.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = SimTrader(signals, state);
		EnterReference(s, signals, Reference().Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=6125.00"), 6107.75);
		File.WriteAllText(Path.Combine(signals, "vreversal_bad.exit"), ExitText(RefId, "2025-02-13T19:00:00Z", "2025-02-13T19:01:30Z").Replace("ACTION=EXIT", "ACTION=SELL"));
		File.WriteAllText(Path.Combine(signals, "vreversal_other.exit"), ExitText(RefId, "2025-02-13T19:00:00Z", "2025-02-13T19:01:30Z"));
		File.WriteAllText(Path.Combine(signals, "vreversal_" + RefId + "_x.txt"), ExitText(RefId, "2025-02-13T19:00:00Z", "2025-02-13T19:01:30Z"));
		Poll(s);
		SimBar(s, "2025-02-13 14:01:00", 6107.75, 6108.25, 6107.50, 6108.00);
		List<string> output = s.TestHookOutputSnapshot();
		Eq("malformed exit refused once", 1, output.Count(l => l.Contains("vreversal_bad.exit:2: ACTION of an exit file must be EXIT")));
		Eq("misnamed exit refused once", 1, output.Count(l => l.Contains("rejected exit file vreversal_other.exit") && l.Contains("belongs in " + exitName)));
		Eq("exit keys in a .txt: a malformed signal", 1, output.Count(l => l.Contains("vreversal_" + RefId + "_x.txt") && l.Contains("missing required key")));
		Eq("no exit order", 0, CallsOf(s, "ExitLong").Count);
		s.TestHookSetState(State.Terminated);
	}

	private static void ProtocolFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = SimTrader(signals, state);
		SimBar(s, "2025-02-13 13:59:00", 6106.75, 6107.25, 6106.50, 6107.00);
		File.WriteAllText(Path.Combine(signals, RefFile), PlanSignal("TRAIL_POINTS=3.00\n").Replace("PROTOCOL=2", "PROTOCOL=3"));
		Poll(s);
		SimBar(s, "2025-02-13 14:00:00", 6107.00, 6107.50, 6106.75, 6107.25);
		Eq("protocol 3: no orders", 0, s.TestHookCallsSnapshot().Count);
		Eq("protocol 3: refused once with the reason", 1, s.TestHookOutputSnapshot().Count(l => l.Contains(RefFile + ":19: PROTOCOL 3 is newer than protocol 2")));
		Check("moved to rejected/", File.Exists(Path.Combine(Path.Combine(signals, "rejected"), RefFile)));
		s.TestHookSetState(State.Terminated);

		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = SimTrader(signals, state);
		SimBar(s, "2025-02-13 13:59:00", 6106.75, 6107.25, 6106.50, 6107.00);
		File.WriteAllText(Path.Combine(signals, RefFile), Reference() + "PROTOCOL=2x\n");
		Poll(s);
		Eq("malformed PROTOCOL: no orders", 0, s.TestHookCallsSnapshot().Count);
		Eq("malformed PROTOCOL: refused once", 1, s.TestHookOutputSnapshot().Count(l => l.Contains(RefFile + ":18: PROTOCOL '2x' is not a whole number")));
		s.TestHookSetState(State.Terminated);
	}

	/// <summary>Issue 24: only what vrev could have written is executed.</summary>
	private static void OnlyVrevFilesFlow()
	{
		string root = TempDir();
		string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
		VrevAutoTrader s = SimTrader(signals, state);
		SimBar(s, "2025-02-13 13:59:00", 6106.75, 6107.25, 6106.50, 6107.00);
		File.WriteAllText(Path.Combine(signals, "notes.txt"), Reference());
		File.WriteAllText(Path.Combine(signals, "orb_" + RefId + ".txt"), Reference());
		File.WriteAllText(Path.Combine(signals, "vreversal_copy.txt"), Reference());
		Poll(s);
		SimBar(s, "2025-02-13 14:00:00", 6107.00, 6107.50, 6106.75, 6107.25);
		List<string> output = s.TestHookOutputSnapshot();
		Eq("notes.txt and another prefix: no orders", 0, s.TestHookCallsSnapshot().Count);
		Eq("notes.txt is not even read", 0, output.Count(l => l.Contains("notes.txt")));
		Eq("another prefix is not read", 0, output.Count(l => l.Contains("orb_")));
		Eq("a file whose name is not its ID is refused once", 1, output.Count(l => l.Contains("rejected signal file vreversal_copy.txt: its SIGNAL_ID " + RefId + " belongs in " + RefFile)));
		Check("notes.txt left alone", File.Exists(Path.Combine(signals, "notes.txt")));
		s.TestHookSetState(State.Terminated);

		// Another configured prefix: its files are read, vreversal_ ones are not.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = new VrevAutoTrader();
		s.TestHookSetState(State.SetDefaults);
		s.SignalsFolder = signals;
		s.StateFolder = state;
		s.SignalFilePrefix = "orb_";
		s.PollIntervalMilliseconds = 3600000;
		s.ChartTimeZoneId = "America/New_York";
		s.TestHookSetInstrument("ES 03-25", "ES", 0.25, 50.0);
		s.TestHookSetState(State.Configure);
		s.TestHookSetState(State.DataLoaded);
		s.TestHookSetState(State.Historical);
		GoLive(s);
		Directory.CreateDirectory(signals);
		File.WriteAllText(Path.Combine(signals, RefFile), Reference());
		File.WriteAllText(Path.Combine(signals, "orb_" + RefId + ".txt"), Reference());
		Bar(s, "2025-02-13 13:59:00", 6107.0);
		Eq("orb_ file executed", 1, CallsOf(s, "EnterLong").Count);
		Check("vreversal_ file not read", !s.TestHookOutputSnapshot().Any(l => l.Contains(RefFile)));
		s.TestHookSetState(State.Terminated);

		// An empty prefix disables the strategy with a reason.
		s = new VrevAutoTrader();
		s.TestHookSetState(State.SetDefaults);
		s.SignalsFolder = Path.Combine(TempDir(), "signals");
		s.StateFolder = Path.Combine(TempDir(), "state");
		s.SignalFilePrefix = "";
		s.TestHookSetInstrument("ES 03-25", "ES", 0.25, 50.0);
		s.TestHookSetState(State.Configure);
		s.TestHookSetState(State.DataLoaded);
		Check("empty prefix: disabled with the reason", s.TestHookOutputSnapshot().Any(l => l.Contains("disabled: Signal file prefix: empty")));
		s.TestHookSetState(State.Terminated);

		// QUANTITY above Max quantity: refused with the reason, recorded, never capped.
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = NewTrader(signals, state, "ES", 2, 3600000);
		GoLive(s);
		File.WriteAllText(Path.Combine(signals, RefFile), Reference());
		Bar(s, "2025-02-13 13:59:00", 6107.0);
		Eq("QUANTITY 3 with Max quantity 2: no orders", 0, s.TestHookCallsSnapshot().Count);
		Check("refusal logged with the reason", s.TestHookOutputSnapshot().Any(l => l.Contains("signal " + RefId + " rejected (max_quantity): QUANTITY 3 is above Max quantity 2")));
		Eq("recorded", "max_quantity", LoadStore(state).OutcomeOf(RefId));
		s.TestHookSetState(State.Terminated);

		// A stop and target from a hand-made file, EXPIRES in 2099, MAX_HOLD_MINUTES=999999 (the review's probe).
		root = TempDir();
		signals = Path.Combine(root, "signals");
		state = Path.Combine(root, "state");
		s = NewTrader(signals, state, "ES", 3, 3600000);
		GoLive(s);
		File.WriteAllText(Path.Combine(signals, RefFile), Reference().Replace("STOP_LOSS=6101.00", "STOP_LOSS=6106.75").Replace("TAKE_PROFIT=6110.00", "TAKE_PROFIT=99999.00")
			.Replace("EXPIRES=2025-02-13T19:00:30Z", "EXPIRES=2099-01-01T00:00:00Z").Replace("MAX_HOLD_MINUTES=25", "MAX_HOLD_MINUTES=999999"));
		Bar(s, "2025-02-13 13:59:00", 6107.0);
		Eq("the probe file: no orders", 0, s.TestHookCallsSnapshot().Count);
		Check("refused as max_target", s.TestHookOutputSnapshot().Any(l => l.Contains("signal " + RefId + " rejected (max_target)")));
		s.TestHookSetState(State.Terminated);
	}

	private static void EveningFlow()
	{
		foreach (bool sunday in new[] { true, false })
		{
			string root = TempDir();
			string signals = Path.Combine(root, "signals"), state = Path.Combine(root, "state");
			VrevAutoTrader s = new VrevAutoTrader();
			s.TestHookSetState(State.SetDefaults);
			s.SignalsFolder = signals;
			s.StateFolder = state;
			s.PollIntervalMilliseconds = 3600000;
			s.ChartTimeZoneId = "America/New_York";
			s.Window1Start = "18:00";
			s.Window1End = "02:00";
			s.Window2Start = s.Window2End = s.Window3Start = s.Window3End = "";
			s.TestHookSetInstrument("ES 03-25", "ES", 0.25, 50.0);
			s.TestHookSetState(State.Configure);
			s.TestHookSetState(State.DataLoaded);
			s.TestHookSetState(State.Historical);
			GoLive(s);
			Check("window logged as across midnight", s.TestHookOutputSnapshot().Any(l => l.Contains("windows 18:00-02:00 (across midnight) ET")));
			string id = sunday ? "20250216_200000_6100.00_6090.00" : "20250214_200000_6100.00_6090.00";
			string t = sunday ? "2025-02-17T01:00:00Z" : "2025-02-15T01:00:00Z";
			File.WriteAllText(Path.Combine(signals, "vreversal_" + id + ".txt"), EveningSignal(id, t, t.Replace(":00:00Z", ":01:30Z")));
			Bar(s, sunday ? "2025-02-16 20:00:00" : "2025-02-14 20:00:00", 6100.0);
			if (sunday)
				Eq("Sunday 20:00 ET signal entered", 1, CallsOf(s, "EnterLong").Count);
			else
			{
				Eq("Friday 20:00 ET signal: no orders", 0, s.TestHookCallsSnapshot().Count);
				Check("Friday evening refused as window", s.TestHookOutputSnapshot().Any(l => l.Contains("signal " + id + " rejected (window)")));
			}
			s.TestHookSetState(State.Terminated);
		}
	}

	private static void PublisherDefaults()
	{
		VrevPublisher p = new VrevPublisher();
		p.TestHookSetState(State.SetDefaults);
		Eq("port", 6789, p.Port);
		Eq("bind", "127.0.0.1", p.BindAddress);
		Eq("calculate", Calculate.OnBarClose, p.Calculate);
		Eq("lookback", "5 Days", p.LookbackValue + " " + p.LookbackUnit);
		Eq("max history", 20000, p.MaxHistoryBars);
		Eq("non-time bars", 5000, p.HistoryBarCount);
		Check("ticks off", !p.SendTicks);
		Check("keeps running while the chart tab is hidden", !p.IsSuspendedWhileInactive);
		p.TestHookSetInstrument("ES 03-25", "ES", 0.25, 50.0);
		p.TestHookSetState(State.Configure);
		p.TestHookSetState(State.DataLoaded);
		Check("history size logged (5 days of 1-min = 7200)", p.TestHookOutputSnapshot().Any(l => l.Contains("7200 bars")));
		p.TestHookSetState(State.Terminated);

		VrevPublisher tick = new VrevPublisher();
		tick.TestHookSetState(State.SetDefaults);
		tick.TestHookSetBarsPeriod(BarsPeriodType.Tick, 2000);
		tick.TestHookSetInstrument("ES 03-25", "ES", 0.25, 50.0);
		tick.TestHookSetState(State.Configure);
		tick.TestHookSetState(State.DataLoaded);
		Check("tick chart uses the bar count (5000)", tick.TestHookOutputSnapshot().Any(l => l.Contains("5000 bars")));
		tick.TestHookSetState(State.Terminated);
	}
}
