// vrev auto-trader for NinjaTrader 8: executes vrev signal files (docs/protocol.md section 1).
//
// Copy this file to  Documents\NinjaTrader 8\bin\Custom\Strategies\  and compile (F5 in the
// NinjaScript Editor). Enable it on the chart/instrument the signals are for (ES 1 minute).
//
// Threads: a System.Threading.Timer only scans the folder and parses files (file I/O). Every
// order call happens in a NinjaScript event (OnBarUpdate, OnMarketData, or the callback of
// TriggerCustomEvent that the timer raises), as the NinjaScript Help Guide requires.
//
// Pure logic (parsing, rules, stores) lives in namespace NinjaTrader.NinjaScript.Strategies.VrevTrading
// below and is unit-tested without NinjaTrader. C# 7.2 or lower, .NET Framework 4.8 APIs only.

#region Using declarations
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Xml.Serialization;
using NinjaTrader.Cbi;
using NinjaTrader.Data;
using NinjaTrader.NinjaScript;
using NinjaTrader.NinjaScript.Strategies.VrevTrading;
#endregion

namespace NinjaTrader.NinjaScript.Strategies
{
	public class VrevAutoTrader : Strategy
	{
		/// <summary>Name of the market exit submitted when MAX_HOLD_MINUTES is reached.</summary>
		public const string MaxHoldExitName = VrevExits.MaxHoldSignalName;

		private readonly object scanLock = new object();
		private readonly object processLock = new object();
		private readonly object tradeLock = new object();
		private readonly ConcurrentQueue<VrevSignal> incoming = new ConcurrentQueue<VrevSignal>();
		private readonly List<VrevSignal> pending = new List<VrevSignal>();
		private readonly Dictionary<string, long> seenFiles = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
		private readonly Dictionary<string, int> readFailures = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
		private Timer pollTimer;
		private int timerBusy;
		private volatile bool terminated;
		private volatile int pendingCount;
		private long lastDataTicks;       // UTC ticks of the latest bar close or last-trade time
		private long lastPriceBits;       // BitConverter.DoubleToInt64Bits of the latest price
		private VrevProcessedStore store;
		private VrevRules rules;
		private TimeZoneInfo chartZone;
		private TimeZoneInfo eastern;
		private VrevTradeTracker active;  // guarded by tradeLock
		private string tradeLogPath;
		private bool ready;
		private int errorsLogged;

		protected override void OnStateChange()
		{
			try
			{
				if (State == State.SetDefaults)
				{
					Description = "Executes vrev signal files (KEY=VALUE) with managed stop and target orders.";
					Name = "VrevAutoTrader";
					Calculate = Calculate.OnBarClose;
					EntriesPerDirection = 1;
					EntryHandling = EntryHandling.AllEntries;
					IsExitOnSessionCloseStrategy = true;
					ExitOnSessionCloseSeconds = 30;
					IsFillLimitOnTouch = false;
					MaximumBarsLookBack = MaximumBarsLookBack.TwoHundredFiftySix;
					OrderFillResolution = OrderFillResolution.Standard;
					Slippage = 0;
					StartBehavior = StartBehavior.WaitUntilFlat;
					TimeInForce = TimeInForce.Gtc;
					TraceOrders = false;
					RealtimeErrorHandling = RealtimeErrorHandling.StopCancelClose;
					StopTargetHandling = StopTargetHandling.PerEntryExecution;
					BarsRequiredToTrade = 0;
					IsInstantiatedOnEachOptimizationIteration = true;

					string docs = Environment.GetFolderPath(Environment.SpecialFolder.MyDocuments);
					SignalsFolder = Path.Combine(docs, "vrev", "signals");
					StateFolder = Path.Combine(docs, "vrev", "nt8");
					PollIntervalMilliseconds = 500;
					MaxQuantity = 1;
					EnableBuy = true;
					EnableSell = true;
					MaxSignalsPerDay = 20;
					CheckInstrument = true;
					Window1Start = "03:00";
					Window1End = "04:00";
					Window2Start = "09:00";
					Window2End = "11:00";
					Window3Start = "13:30";
					Window3End = "15:00";
					ChartTimeZoneId = "";
				}
				else if (State == State.DataLoaded)
				{
					chartZone = VrevTime.FindZone(ChartTimeZoneId);
					eastern = VrevTime.Eastern();
					rules = new VrevRules();
					rules.EnableBuy = EnableBuy;
					rules.EnableSell = EnableSell;
					rules.MaxSignalsPerDay = MaxSignalsPerDay;
					rules.Instrument = CheckInstrument && Instrument != null && Instrument.MasterInstrument != null ? Instrument.MasterInstrument.Name : null;
					rules.Eastern = eastern;
					AddWindow(1, Window1Start, Window1End);
					AddWindow(2, Window2Start, Window2End);
					AddWindow(3, Window3Start, Window3End);

					Directory.CreateDirectory(StateFolder);
					Directory.CreateDirectory(SignalsFolder);
					string account = VrevPaths.SafeFilePart(Account != null ? Account.Name : "account");
					store = new VrevProcessedStore(Path.Combine(StateFolder, "processed_" + account + ".txt"));
					store.Load();
					tradeLogPath = Path.Combine(StateFolder, "trades_" + account + ".csv");
					ready = true;
					LogLine("signals " + SignalsFolder + ", state " + store.Path + ", " + store.Count.ToString(CultureInfo.InvariantCulture)
						+ " processed IDs, windows " + VrevRules.Describe(rules.Windows) + " ET, max quantity " + MaxQuantity.ToString(CultureInfo.InvariantCulture));
				}
				else if (State == State.Realtime)
				{
					if (ready && pollTimer == null)
					{
						int period = Math.Max(100, PollIntervalMilliseconds);
						pollTimer = new Timer(OnPollTimer, null, period, period);
					}
				}
				else if (State == State.Terminated)
				{
					terminated = true;
					Timer t = pollTimer;
					pollTimer = null;
					if (t != null)
						t.Dispose();
				}
			}
			catch (Exception ex)
			{
				ready = false;
				LogLine("disabled: " + ex.Message);
			}
		}

		private void AddWindow(int number, string start, string end)
		{
			if (string.IsNullOrWhiteSpace(start) && string.IsNullOrWhiteSpace(end))
				return;
			VrevWindow w;
			string error;
			if (!VrevWindow.TryParse(start, end, out w, out error))
				throw new ArgumentException("window " + number.ToString(CultureInfo.InvariantCulture) + ": " + error);
			rules.Windows.Add(w);
		}

		protected override void OnBarUpdate()
		{
			if (BarsInProgress != 0 || !ready)
				return;
			try
			{
				UpdateDataTime(VrevTime.ToUtc(Time[0], chartZone, DataTimeUtc), Close[0]);
				if (State != State.Realtime)
					return; // signals are for now: never acted on while NinjaTrader replays history
				ScanFolder();
				ProcessPending();
				CheckMaxHold();
			}
			catch (Exception ex)
			{
				LogError(ex);
			}
		}

		protected override void OnMarketData(MarketDataEventArgs marketDataUpdate)
		{
			if (!ready || State != State.Realtime || marketDataUpdate.MarketDataType != MarketDataType.Last)
				return;
			try
			{
				UpdateDataTime(VrevTime.ToUtc(marketDataUpdate.Time, chartZone, DataTimeUtc), marketDataUpdate.Price);
				if (pendingCount > 0)
					ProcessPending();
				CheckMaxHold();
			}
			catch (Exception ex)
			{
				LogError(ex);
			}
		}

		protected override void OnOrderUpdate(Order order, double limitPrice, double stopPrice, int quantity, int filled, double averageFillPrice, OrderState orderState, DateTime time, ErrorCode error, string comment)
		{
			try
			{
				if (order == null || (orderState != OrderState.Cancelled && orderState != OrderState.Rejected))
					return;
				string message = null;
				lock (tradeLock)
				{
					if (active != null && order.Name == active.SignalName && active.EntryQuantity == 0 && filled == 0)
					{
						message = "entry " + active.SignalName + " " + orderState.ToString() + " without a fill" + (string.IsNullOrEmpty(comment) ? "" : ": " + comment);
						active = null;
					}
				}
				if (message != null)
					LogLine(message);
			}
			catch (Exception ex)
			{
				LogError(ex);
			}
		}

		protected override void OnExecutionUpdate(Execution execution, string executionId, double price, int quantity, MarketPosition marketPosition, string orderId, DateTime time)
		{
			try
			{
				if (execution == null || execution.Order == null || quantity <= 0)
					return;
				string orderName = execution.Order.Name ?? "";
				DateTime utc = VrevTime.ToUtc(time, chartZone, null);
				VrevTradeRecord done = null;
				lock (tradeLock)
				{
					if (active == null)
						return;
					if (orderName == active.SignalName)
						active.OnEntryFill(price, quantity, utc);
					else if (active.OpenQuantity > 0)
					{
						done = active.OnExitFill(price, quantity, utc, VrevExits.Classify(orderName));
						if (done != null)
							active = null;
					}
				}
				if (done != null)
				{
					VrevTradeLog.Append(tradeLogPath, done);
					LogLine("trade closed: " + VrevTradeLog.FormatLine(done));
				}
			}
			catch (Exception ex)
			{
				LogError(ex);
			}
		}

		/// <summary>Data time: the latest bar close or last-trade time seen, UTC (Playback time in Playback).</summary>
		[Browsable(false)]
		[XmlIgnore]
		public DateTime DataTimeUtc
		{
			get
			{
				long t = Interlocked.Read(ref lastDataTicks);
				return t == 0 ? DateTime.MinValue : new DateTime(t, DateTimeKind.Utc);
			}
		}

		private void UpdateDataTime(DateTime utc, double price)
		{
			long ticks = utc.Ticks;
			long current = Interlocked.Read(ref lastDataTicks);
			while (ticks > current)
			{
				long seen = Interlocked.CompareExchange(ref lastDataTicks, ticks, current);
				if (seen == current)
					break;
				current = seen;
			}
			Interlocked.Exchange(ref lastPriceBits, BitConverter.DoubleToInt64Bits(price));
		}

		private double LastPrice
		{
			get { return BitConverter.Int64BitsToDouble(Interlocked.Read(ref lastPriceBits)); }
		}

		private void OnPollTimer(object state)
		{
			if (terminated || Interlocked.Exchange(ref timerBusy, 1) == 1)
				return;
			try
			{
				int added = ScanFolder();
				if (added > 0 && !terminated && State == State.Realtime)
					TriggerCustomEvent(OnSignalsArrived, null);
			}
			catch (Exception ex)
			{
				LogError(ex);
			}
			finally
			{
				Interlocked.Exchange(ref timerBusy, 0);
			}
		}

		private void OnSignalsArrived(object state)
		{
			try
			{
				if (terminated || !ready)
					return;
				ProcessPending();
				CheckMaxHold();
			}
			catch (Exception ex)
			{
				LogError(ex);
			}
		}

		/// <summary>Reads new signal files (file I/O only, any thread). Returns the number of new signals queued.</summary>
		private int ScanFolder()
		{
			lock (scanLock)
			{
				if (!Directory.Exists(SignalsFolder))
					return 0;
				int added = 0;
				HashSet<string> present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
				foreach (string path in Directory.GetFiles(SignalsFolder))
				{
					string name = Path.GetFileName(path);
					if (!VrevSignalFiles.IsCandidate(name))
						continue;
					present.Add(name);
					long stamp;
					string text;
					try
					{
						FileInfo fi = new FileInfo(path);
						stamp = fi.LastWriteTimeUtc.Ticks ^ fi.Length;
						long seen;
						if (seenFiles.TryGetValue(name, out seen) && seen == stamp)
							continue;
						// Refused earlier (this run or a previous one) and still here: never read again.
						if (store.Contains(VrevSignalFiles.RefusedKey(name)))
						{
							seenFiles[name] = stamp;
							continue;
						}
						text = File.ReadAllText(path, Encoding.UTF8);
					}
					catch (FileNotFoundException)
					{
						continue; // vanished since the listing (e.g. removed by hand): nothing to read
					}
					catch (IOException ex)
					{
						ReadFailed(path, name, ex.Message); // locked: retried on the next scan, a bounded number of times
						continue;
					}
					catch (UnauthorizedAccessException ex)
					{
						ReadFailed(path, name, ex.Message);
						continue;
					}
					readFailures.Remove(name);
					seenFiles[name] = stamp;
					VrevParseResult r = VrevSignalParser.Parse(name, text);
					if (r.Signal == null)
					{
						Refuse(path, name, "rejected malformed signal file " + r.Error);
						continue;
					}
					if (store.Contains(r.Signal.Id))
						continue;
					incoming.Enqueue(r.Signal);
					added++;
				}
				List<string> gone = new List<string>();
				foreach (string name in seenFiles.Keys)
					if (!present.Contains(name))
						gone.Add(name);
				foreach (string name in readFailures.Keys)
					if (!present.Contains(name))
						gone.Add(name);
				foreach (string name in gone)
				{
					seenFiles.Remove(name);
					readFailures.Remove(name);
				}
				if (added > 0)
					pendingCount += added;
				return added;
			}
		}

		/// <summary>
		/// A file that cannot be read is retried on the next scans (another program may hold it
		/// for a moment), logged on the first failure only, and refused after
		/// VrevSignalFiles.MaxReadAttempts failures in a row. Caller holds scanLock.
		/// </summary>
		private void ReadFailed(string path, string name, string message)
		{
			int n;
			readFailures.TryGetValue(name, out n);
			n++;
			readFailures[name] = n;
			if (n == 1)
				LogLine("cannot read signal file " + name + " (retrying on each scan): " + message);
			if (n >= VrevSignalFiles.MaxReadAttempts)
			{
				readFailures.Remove(name);
				Refuse(path, name, "refused signal file " + name + ":0: still cannot be read after "
					+ n.ToString(CultureInfo.InvariantCulture) + " attempts: " + message);
			}
		}

		/// <summary>
		/// Refuses a signal file once: one log line, moved to rejected\ when possible, and its name
		/// recorded in the processed list, so it is never read again, even after a restart or when
		/// it cannot be moved. Caller holds scanLock.
		/// </summary>
		private void Refuse(string path, string name, string message)
		{
			string moved = VrevSignalFiles.MoveToRejected(path);
			DateTime now = DataTimeUtc;
			DateTime day = VrevSession.TradingDay(now == DateTime.MinValue ? DateTime.UtcNow : now, eastern);
			LogLine(message + (moved != null ? " (moved to rejected" + Path.DirectorySeparatorChar + ")" : " (could not move it to rejected" + Path.DirectorySeparatorChar + "; it stays where it is)")
				+ "; listed as " + VrevSignalFiles.RefusedKey(name) + " in " + Path.GetFileName(store.Path) + ", never read again");
			try
			{
				store.Add(VrevSignalFiles.RefusedKey(name), VrevProcessedStore.Refused, day);
			}
			catch (Exception ex)
			{
				// The in-memory list already has it: only a restart would read the file again.
				LogLine("could not save " + store.Path + ": " + ex.Message);
			}
		}

		/// <summary>Decides on queued signals. Runs only in NinjaScript event context; never blocks.</summary>
		private void ProcessPending()
		{
			if (!Monitor.TryEnter(processLock))
				return;
			try
			{
				VrevSignal s;
				while (incoming.TryDequeue(out s))
				{
					bool dup = false;
					foreach (VrevSignal p in pending)
						if (p.Id == s.Id) dup = true;
					if (!dup)
						pending.Add(s);
				}
				// By signal time, then ID: a BUY and a SELL of the same bar are decided in a fixed order.
				pending.Sort((a, b) =>
				{
					int byTime = a.SignalTimeUtc.CompareTo(b.SignalTimeUtc);
					return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
				});
				DateTime now = DataTimeUtc;
				if (now == DateTime.MinValue)
					return;
				List<VrevSignal> done = new List<VrevSignal>();
				foreach (VrevSignal sig in pending)
				{
					bool flat;
					lock (tradeLock)
						flat = active == null;
					flat = flat && Position.MarketPosition == MarketPosition.Flat;
					VrevDecision d = VrevRules.Decide(rules, sig, now, store, flat, LastPrice);
					if (d.Kind == VrevDecisionKind.Wait)
						continue;
					done.Add(sig);
					if (d.Kind == VrevDecisionKind.Duplicate)
						continue;
					DateTime day = VrevSession.TradingDay(now, eastern);
					if (d.Kind == VrevDecisionKind.Reject)
					{
						store.Add(sig.Id, d.Reason, day);
						LogLine("signal " + sig.Id + " rejected (" + d.Reason + "): " + d.Detail);
						continue;
					}
					// Persisted before the order goes out: a crash right after can never enter twice.
					store.Add(sig.Id, VrevProcessedStore.Accepted, day);
					Submit(sig, now);
				}
				foreach (VrevSignal sig in done)
					pending.Remove(sig);
				pendingCount = pending.Count;
			}
			finally
			{
				Monitor.Exit(processLock);
			}
		}

		private void Submit(VrevSignal sig, DateTime nowUtc)
		{
			string name = VrevSignalName.For(sig.Id);
			int quantity = Math.Min(sig.Quantity, Math.Max(1, MaxQuantity));
			lock (tradeLock)
				active = new VrevTradeTracker(sig, name, quantity, Instrument != null && Instrument.MasterInstrument != null ? Instrument.MasterInstrument.PointValue : 0.0);
			// Managed approach: stop and target in price mode BEFORE the entry (Help Guide: the Set
			// methods must be called prior to submitting the associated entry order).
			SetStopLoss(name, CalculationMode.Price, sig.StopLoss, false);
			SetProfitTarget(name, CalculationMode.Price, sig.TakeProfit);
			if (sig.Side == VrevSide.Buy)
				EnterLong(quantity, name);
			else
				EnterShort(quantity, name);
			LogLine("signal " + sig.Id + " accepted: " + (sig.Side == VrevSide.Buy ? "BUY " : "SELL ") + quantity.ToString(CultureInfo.InvariantCulture)
				+ " stop " + VrevFormat.Price(sig.StopLoss) + " target " + VrevFormat.Price(sig.TakeProfit)
				+ " max hold " + sig.MaxHoldMinutes.ToString(CultureInfo.InvariantCulture) + " min, data time " + VrevFormat.Utc(nowUtc));
		}

		private void CheckMaxHold()
		{
			string entryName = null;
			VrevSide side = VrevSide.Buy;
			DateTime now = DataTimeUtc;
			lock (tradeLock)
			{
				if (active != null && active.IsMaxHoldDue(now))
				{
					active.MaxHoldRequested = true;
					entryName = active.SignalName;
					side = active.Side;
				}
			}
			if (entryName == null)
				return;
			if (side == VrevSide.Buy)
				ExitLong(MaxHoldExitName, entryName);
			else
				ExitShort(MaxHoldExitName, entryName);
			LogLine("max hold reached for " + entryName + " at data time " + VrevFormat.Utc(now) + ": exit at market");
		}

		private void LogError(Exception ex)
		{
			if (Interlocked.Increment(ref errorsLogged) <= 50)
				LogLine("error: " + ex.GetType().Name + ": " + ex.Message);
		}

		private void LogLine(string message)
		{
			try
			{
				Print("VrevAutoTrader: " + message);
			}
			catch (Exception)
			{
				// never let logging throw (Print can fail during shutdown)
			}
		}

		#region Properties
		[Display(Name = "Signals folder", Description = "Folder vrev writes signal files to (engine.signals_dir).", Order = 1, GroupName = "Signals")]
		public string SignalsFolder { get; set; }

		[Display(Name = "State folder", Description = "Processed-ID list and trade log (one file per account).", Order = 2, GroupName = "Signals")]
		public string StateFolder { get; set; }

		[Range(100, 3600000)]
		[Display(Name = "Poll interval (ms)", Description = "How often the folder is scanned, independent of ticks.", Order = 3, GroupName = "Signals")]
		public int PollIntervalMilliseconds { get; set; }

		[Range(1, 1000)]
		[Display(Name = "Max quantity", Description = "Upper bound of contracts per signal (QUANTITY is capped to it).", Order = 4, GroupName = "Risk")]
		public int MaxQuantity { get; set; }

		[Display(Name = "Enable buy", Description = "Execute BUY signals.", Order = 5, GroupName = "Risk")]
		public bool EnableBuy { get; set; }

		[Display(Name = "Enable sell", Description = "Execute SELL signals.", Order = 6, GroupName = "Risk")]
		public bool EnableSell { get; set; }

		[Range(1, 10000)]
		[Display(Name = "Max signals per trading day", Description = "Accepted signals per CME trading day (rolls at 18:00 ET).", Order = 7, GroupName = "Risk")]
		public int MaxSignalsPerDay { get; set; }

		[Display(Name = "Check instrument", Description = "Reject a signal whose INSTRUMENT is not this chart's master instrument (e.g. ES).", Order = 8, GroupName = "Risk")]
		public bool CheckInstrument { get; set; }

		[Display(Name = "Window 1 start (ET)", Description = "HH:mm, inclusive. Empty start and end = window off.", Order = 10, GroupName = "Windows")]
		public string Window1Start { get; set; }

		[Display(Name = "Window 1 end (ET)", Description = "HH:mm, exclusive.", Order = 11, GroupName = "Windows")]
		public string Window1End { get; set; }

		[Display(Name = "Window 2 start (ET)", Description = "HH:mm, inclusive. Empty start and end = window off.", Order = 12, GroupName = "Windows")]
		public string Window2Start { get; set; }

		[Display(Name = "Window 2 end (ET)", Description = "HH:mm, exclusive.", Order = 13, GroupName = "Windows")]
		public string Window2End { get; set; }

		[Display(Name = "Window 3 start (ET)", Description = "HH:mm, inclusive. Empty start and end = window off.", Order = 14, GroupName = "Windows")]
		public string Window3Start { get; set; }

		[Display(Name = "Window 3 end (ET)", Description = "HH:mm, exclusive.", Order = 15, GroupName = "Windows")]
		public string Window3End { get; set; }

		[Display(Name = "Chart time zone id", Description = "Time zone of NinjaTrader bar times. Empty = this PC's zone (NinjaTrader's default).", Order = 20, GroupName = "Windows")]
		public string ChartTimeZoneId { get; set; }
		#endregion
	}
}

namespace NinjaTrader.NinjaScript.Strategies.VrevTrading
{
	public enum VrevSide
	{
		Buy,
		Sell
	}

	/// <summary>One parsed signal file. Values holds every KEY=VALUE as written (extras included).</summary>
	public sealed class VrevSignal
	{
		public VrevSignal()
		{
			Values = new Dictionary<string, string>(StringComparer.Ordinal);
			Extras = new Dictionary<string, string>(StringComparer.Ordinal);
		}

		public string SourceFile { get; set; }
		public string Id { get; set; }
		public VrevSide Side { get; set; }
		public double EntryPrice { get; set; }
		public double StopLoss { get; set; }
		public double TakeProfit { get; set; }
		public int Quantity { get; set; }
		public int MaxHoldMinutes { get; set; }
		public DateTime SignalTimeUtc { get; set; }
		/// <summary>SIGNAL_TIME_ET as written (Unspecified kind); null when absent.</summary>
		public DateTime? SignalTimeEt { get; set; }
		public DateTime ExpiresUtc { get; set; }
		public string Instrument { get; set; }
		public string Profile { get; set; }
		public string Strategy { get; set; }
		public string PatternType { get; set; }
		/// <summary>null when CONFIDENCE is empty or absent.</summary>
		public double? Confidence { get; set; }
		public Dictionary<string, string> Values { get; private set; }
		/// <summary>Keys not defined by protocol.md (the script's extra values).</summary>
		public Dictionary<string, string> Extras { get; private set; }
	}

	public sealed class VrevParseResult
	{
		public VrevSignal Signal;
		/// <summary>"file:line: message" when the file is malformed.</summary>
		public string Error;
	}

	public static class VrevSignalFiles
	{
		/// <summary>Failed reads in a row after which an unreadable file is refused (about 50 s at the default poll interval).</summary>
		public const int MaxReadAttempts = 100;

		/// <summary>Key of a refused file in the processed list ("file:" + name; vrev's IDs start with a date).</summary>
		public static string RefusedKey(string fileName)
		{
			StringBuilder sb = new StringBuilder("file:");
			foreach (char c in fileName ?? "")
				sb.Append(char.IsControl(c) ? '?' : c); // the list is tab- and line-separated
			return sb.ToString();
		}

		/// <summary>Signal files end in .txt; names starting with '.' or ending in .tmp are never read.</summary>
		public static bool IsCandidate(string fileName)
		{
			if (string.IsNullOrEmpty(fileName) || fileName.StartsWith(".", StringComparison.Ordinal))
				return false;
			if (fileName.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase))
				return false;
			return fileName.EndsWith(".txt", StringComparison.OrdinalIgnoreCase);
		}

		/// <summary>Moves a file into the "rejected" subfolder (unique name). Returns the new path, or null.</summary>
		public static string MoveToRejected(string path)
		{
			try
			{
				string dir = Path.Combine(Path.GetDirectoryName(path), "rejected");
				Directory.CreateDirectory(dir);
				string name = Path.GetFileName(path);
				string dest = Path.Combine(dir, name);
				int n = 1;
				while (File.Exists(dest))
				{
					dest = Path.Combine(dir, Path.GetFileNameWithoutExtension(name) + "." + n.ToString(CultureInfo.InvariantCulture) + Path.GetExtension(name));
					n++;
				}
				File.Move(path, dest);
				return dest;
			}
			catch (Exception)
			{
				return null;
			}
		}
	}

	public static class VrevSignalParser
	{
		public static readonly string[] RequiredKeys = {
			"SIGNAL_ID", "ACTION", "ENTRY_PRICE", "STOP_LOSS", "TAKE_PROFIT", "QUANTITY", "MAX_HOLD_MINUTES", "SIGNAL_TIME", "EXPIRES"
		};

		public static readonly string[] KnownKeys = {
			"SIGNAL_ID", "ACTION", "ENTRY_PRICE", "STOP_LOSS", "TAKE_PROFIT", "QUANTITY", "MAX_HOLD_MINUTES", "SIGNAL_TIME",
			"SIGNAL_TIME_ET", "EXPIRES", "INSTRUMENT", "PROFILE", "STRATEGY", "PATTERN_TYPE", "CONFIDENCE"
		};

		/// <summary>Parses a signal file's text. Never throws; malformed input gives Error "file:line: message".</summary>
		public static VrevParseResult Parse(string fileName, string text)
		{
			VrevParseResult result = new VrevParseResult();
			string file = fileName ?? "(signal)";
			if (text == null || text.Trim().Length == 0)
			{
				result.Error = file + ":1: empty file";
				return result;
			}
			if (text.Length > 0 && text[0] == '\uFEFF')
				text = text.Substring(1);
			VrevSignal s = new VrevSignal();
			s.SourceFile = fileName;
			Dictionary<string, int> lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
			string[] lines = text.Split('\n');
			int lastLine = lines.Length;
			if (lastLine > 1 && lines[lastLine - 1].Length == 0)
				lastLine--;
			for (int i = 0; i < lines.Length; i++)
			{
				string line = lines[i];
				if (line.EndsWith("\r", StringComparison.Ordinal))
					line = line.Substring(0, line.Length - 1);
				int lineNo = i + 1;
				if (line.Trim().Length == 0 || line.StartsWith("#", StringComparison.Ordinal))
					continue;
				int eq = line.IndexOf('=');
				if (eq < 0)
					return Fail(result, file, lineNo, "expected KEY=VALUE, found '" + Shorten(line) + "'");
				string key = line.Substring(0, eq);
				string value = line.Substring(eq + 1);
				if (!IsKey(key))
					return Fail(result, file, lineNo, "invalid key '" + Shorten(key) + "' (keys are upper case A-Z, 0-9, _)");
				if (lineOf.ContainsKey(key))
					return Fail(result, file, lineNo, "duplicate key " + key + " (first on line " + lineOf[key].ToString(CultureInfo.InvariantCulture) + ")");
				lineOf[key] = lineNo;
				s.Values[key] = value;
				if (Array.IndexOf(KnownKeys, key) < 0)
					s.Extras[key] = value;
			}
			foreach (string key in RequiredKeys)
				if (!s.Values.ContainsKey(key))
					return Fail(result, file, lastLine, "missing required key " + key);

			string v = s.Values["SIGNAL_ID"];
			if (v.Length == 0 || v.Length > 100 || HasWhitespaceOrControl(v))
				return Fail(result, file, lineOf["SIGNAL_ID"], "SIGNAL_ID '" + Shorten(v) + "' is empty, too long or has spaces");
			s.Id = v;

			v = s.Values["ACTION"];
			if (v == "BUY") s.Side = VrevSide.Buy;
			else if (v == "SELL") s.Side = VrevSide.Sell;
			else return Fail(result, file, lineOf["ACTION"], "ACTION must be BUY or SELL, found '" + Shorten(v) + "'");

			double d;
			if (!TryPrice(s.Values["ENTRY_PRICE"], out d)) return Fail(result, file, lineOf["ENTRY_PRICE"], "ENTRY_PRICE '" + Shorten(s.Values["ENTRY_PRICE"]) + "' is not a positive number with '.' decimals");
			s.EntryPrice = d;
			if (!TryPrice(s.Values["STOP_LOSS"], out d)) return Fail(result, file, lineOf["STOP_LOSS"], "STOP_LOSS '" + Shorten(s.Values["STOP_LOSS"]) + "' is not a positive number with '.' decimals");
			s.StopLoss = d;
			if (!TryPrice(s.Values["TAKE_PROFIT"], out d)) return Fail(result, file, lineOf["TAKE_PROFIT"], "TAKE_PROFIT '" + Shorten(s.Values["TAKE_PROFIT"]) + "' is not a positive number with '.' decimals");
			s.TakeProfit = d;

			int n;
			if (!TryPositiveInt(s.Values["QUANTITY"], out n)) return Fail(result, file, lineOf["QUANTITY"], "QUANTITY '" + Shorten(s.Values["QUANTITY"]) + "' is not an integer >= 1");
			s.Quantity = n;
			if (!TryPositiveInt(s.Values["MAX_HOLD_MINUTES"], out n)) return Fail(result, file, lineOf["MAX_HOLD_MINUTES"], "MAX_HOLD_MINUTES '" + Shorten(s.Values["MAX_HOLD_MINUTES"]) + "' is not an integer >= 1");
			s.MaxHoldMinutes = n;

			DateTime t;
			if (!VrevTime.TryParseUtc(s.Values["SIGNAL_TIME"], out t)) return Fail(result, file, lineOf["SIGNAL_TIME"], "SIGNAL_TIME '" + Shorten(s.Values["SIGNAL_TIME"]) + "' is not an RFC 3339 UTC time");
			s.SignalTimeUtc = t;
			if (!VrevTime.TryParseUtc(s.Values["EXPIRES"], out t)) return Fail(result, file, lineOf["EXPIRES"], "EXPIRES '" + Shorten(s.Values["EXPIRES"]) + "' is not an RFC 3339 UTC time");
			s.ExpiresUtc = t;
			if (s.ExpiresUtc < s.SignalTimeUtc)
				return Fail(result, file, lineOf["EXPIRES"], "EXPIRES is before SIGNAL_TIME");

			string et;
			if (s.Values.TryGetValue("SIGNAL_TIME_ET", out et) && et.Length > 0)
			{
				DateTime etTime;
				if (!DateTime.TryParseExact(et, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out etTime))
					return Fail(result, file, lineOf["SIGNAL_TIME_ET"], "SIGNAL_TIME_ET '" + Shorten(et) + "' is not yyyy-MM-dd HH:mm:ss");
				s.SignalTimeEt = DateTime.SpecifyKind(etTime, DateTimeKind.Unspecified);
			}

			string conf;
			if (s.Values.TryGetValue("CONFIDENCE", out conf) && conf.Length > 0)
			{
				if (!TryNumber(conf, out d) || d < 0 || d > 1)
					return Fail(result, file, lineOf["CONFIDENCE"], "CONFIDENCE '" + Shorten(conf) + "' is not a number from 0 to 1");
				s.Confidence = d;
			}

			s.Instrument = Get(s, "INSTRUMENT");
			s.Profile = Get(s, "PROFILE");
			s.Strategy = Get(s, "STRATEGY");
			s.PatternType = Get(s, "PATTERN_TYPE");

			bool ordered = s.Side == VrevSide.Buy
				? s.StopLoss < s.EntryPrice && s.EntryPrice < s.TakeProfit
				: s.TakeProfit < s.EntryPrice && s.EntryPrice < s.StopLoss;
			if (!ordered)
				return Fail(result, file, lineOf["STOP_LOSS"], s.Side == VrevSide.Buy
					? "BUY needs STOP_LOSS < ENTRY_PRICE < TAKE_PROFIT"
					: "SELL needs TAKE_PROFIT < ENTRY_PRICE < STOP_LOSS");

			result.Signal = s;
			return result;
		}

		public static VrevParseResult ParseFile(string path)
		{
			string text;
			try
			{
				text = File.ReadAllText(path, Encoding.UTF8);
			}
			catch (Exception ex)
			{
				return new VrevParseResult { Error = Path.GetFileName(path) + ":0: cannot read: " + ex.Message };
			}
			return Parse(Path.GetFileName(path), text);
		}

		private static string Get(VrevSignal s, string key)
		{
			string v;
			return s.Values.TryGetValue(key, out v) ? v : null;
		}

		private static VrevParseResult Fail(VrevParseResult r, string file, int line, string message)
		{
			r.Signal = null;
			r.Error = file + ":" + line.ToString(CultureInfo.InvariantCulture) + ": " + message;
			return r;
		}

		private static string Shorten(string s)
		{
			return s.Length <= 40 ? s : s.Substring(0, 40) + "...";
		}

		private static bool IsKey(string key)
		{
			if (key.Length == 0)
				return false;
			foreach (char c in key)
				if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
					return false;
			return true;
		}

		private static bool HasWhitespaceOrControl(string s)
		{
			foreach (char c in s)
				if (char.IsWhiteSpace(c) || char.IsControl(c))
					return true;
			return false;
		}

		/// <summary>Plain decimal: optional '-', digits, optional '.' and digits. No exponent, no separators.</summary>
		public static bool TryNumber(string s, out double value)
		{
			value = 0;
			if (string.IsNullOrEmpty(s))
				return false;
			int i = 0;
			if (s[0] == '-') i = 1;
			int digits = 0, dots = 0;
			for (; i < s.Length; i++)
			{
				if (s[i] >= '0' && s[i] <= '9') digits++;
				else if (s[i] == '.' && dots == 0) dots++;
				else return false;
			}
			if (digits == 0 || s[s.Length - 1] == '.' || s.StartsWith(".", StringComparison.Ordinal) || s.StartsWith("-.", StringComparison.Ordinal))
				return false;
			return double.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
				&& !double.IsNaN(value) && !double.IsInfinity(value);
		}

		private static bool TryPrice(string s, out double value)
		{
			return TryNumber(s, out value) && value > 0;
		}

		private static bool TryPositiveInt(string s, out int value)
		{
			value = 0;
			if (string.IsNullOrEmpty(s))
				return false;
			foreach (char c in s)
				if (c < '0' || c > '9')
					return false;
			return int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1;
		}
	}

	/// <summary>NinjaTrader signal name of a vrev signal: "vrev_" + SIGNAL_ID.</summary>
	public static class VrevSignalName
	{
		public const string Prefix = "vrev_";

		public static string For(string signalId)
		{
			return Prefix + signalId;
		}
	}

	/// <summary>
	/// Processed signal IDs, one line per ID: ID TAB outcome TAB trading day (yyyy-MM-dd) TAB recorded UTC.
	/// Rewritten atomically (temporary file, flush, replace) on every change; thread-safe.
	/// </summary>
	public sealed class VrevProcessedStore
	{
		public const string Accepted = "accepted";
		/// <summary>Outcome of a signal file that could not be parsed or read (key: VrevSignalFiles.RefusedKey).</summary>
		public const string Refused = "refused_file";
		private readonly object sync = new object();
		private readonly Dictionary<string, string> outcome = new Dictionary<string, string>(StringComparer.Ordinal);
		private readonly Dictionary<DateTime, int> acceptedPerDay = new Dictionary<DateTime, int>();
		private readonly List<string> lines = new List<string>();

		public VrevProcessedStore(string path)
		{
			Path = path;
		}

		public string Path { get; private set; }

		public int Count
		{
			get { lock (sync) return outcome.Count; }
		}

		/// <summary>Loads the file if present. Unreadable lines are skipped (a truncated last line cannot lose earlier IDs).</summary>
		public void Load()
		{
			lock (sync)
			{
				outcome.Clear();
				acceptedPerDay.Clear();
				lines.Clear();
				if (!File.Exists(Path))
					return;
				foreach (string raw in File.ReadAllLines(Path, Encoding.UTF8))
				{
					string[] parts = raw.Split('\t');
					if (parts.Length < 3 || parts[0].Length == 0)
						continue;
					DateTime day;
					if (!DateTime.TryParseExact(parts[2], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
						continue;
					Remember(parts[0], parts[1], day, raw);
				}
			}
		}

		public bool Contains(string id)
		{
			lock (sync) return outcome.ContainsKey(id);
		}

		public string OutcomeOf(string id)
		{
			lock (sync)
			{
				string o;
				return outcome.TryGetValue(id, out o) ? o : null;
			}
		}

		public int AcceptedOn(DateTime tradingDay)
		{
			lock (sync)
			{
				int n;
				return acceptedPerDay.TryGetValue(tradingDay.Date, out n) ? n : 0;
			}
		}

		/// <summary>Records an ID (no-op if known) and persists the whole list atomically.</summary>
		public bool Add(string id, string result, DateTime tradingDay)
		{
			lock (sync)
			{
				if (outcome.ContainsKey(id))
					return false;
				string line = id + "\t" + result + "\t" + tradingDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
					+ "\t" + DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
				Remember(id, result, tradingDay.Date, line);
				Save();
				return true;
			}
		}

		private void Remember(string id, string result, DateTime day, string line)
		{
			if (outcome.ContainsKey(id))
				return;
			outcome[id] = result;
			lines.Add(line);
			if (result == Accepted)
			{
				int n;
				acceptedPerDay.TryGetValue(day.Date, out n);
				acceptedPerDay[day.Date] = n + 1;
			}
		}

		private void Save()
		{
			string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
			if (!string.IsNullOrEmpty(dir))
				Directory.CreateDirectory(dir);
			string tmp = Path + ".tmp";
			using (FileStream fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
			{
				byte[] bytes = new UTF8Encoding(false).GetBytes(string.Join("\n", lines.ToArray()) + "\n");
				fs.Write(bytes, 0, bytes.Length);
				fs.Flush(true);
			}
			if (File.Exists(Path))
				File.Replace(tmp, Path, null);
			else
				File.Move(tmp, Path);
		}
	}

	/// <summary>A session window in ET wall-clock time: start inclusive, end exclusive.</summary>
	public struct VrevWindow
	{
		public VrevWindow(TimeSpan start, TimeSpan end)
		{
			Start = start;
			End = end;
		}

		public TimeSpan Start;
		public TimeSpan End;

		public bool Contains(TimeSpan timeOfDay)
		{
			return Start <= timeOfDay && timeOfDay < End;
		}

		public override string ToString()
		{
			return VrevFormat.HourMinute(Start) + "-" + VrevFormat.HourMinute(End);
		}

		public static bool TryParse(string start, string end, out VrevWindow window, out string error)
		{
			window = new VrevWindow();
			TimeSpan s, e;
			if (!TryHourMinute(start, out s))
			{
				error = "start '" + start + "' is not HH:mm";
				return false;
			}
			if (!TryHourMinute(end, out e))
			{
				error = "end '" + end + "' is not HH:mm";
				return false;
			}
			if (e <= s)
			{
				error = "end " + end + " is not after start " + start;
				return false;
			}
			window = new VrevWindow(s, e);
			error = null;
			return true;
		}

		private static bool TryHourMinute(string text, out TimeSpan value)
		{
			value = TimeSpan.Zero;
			DateTime t;
			if (text == null || !DateTime.TryParseExact(text.Trim(), new[] { "HH:mm", "H:mm" }, CultureInfo.InvariantCulture, DateTimeStyles.None, out t))
				return false;
			value = t.TimeOfDay;
			return true;
		}
	}

	/// <summary>ET calendar rules (DESIGN section 4): windows Monday-Friday; trading day rolls at 18:00 ET.</summary>
	public static class VrevSession
	{
		public static readonly TimeSpan TradingDayStart = new TimeSpan(18, 0, 0);

		public static DateTime ToEastern(DateTime utc, TimeZoneInfo eastern)
		{
			return TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), eastern);
		}

		/// <summary>ET date of the instant, plus one day at or after 18:00; Saturday/Sunday roll to Monday.</summary>
		public static DateTime TradingDay(DateTime utc, TimeZoneInfo eastern)
		{
			DateTime et = ToEastern(utc, eastern);
			DateTime day = et.Date;
			if (et.TimeOfDay >= TradingDayStart)
				day = day.AddDays(1);
			if (day.DayOfWeek == DayOfWeek.Saturday)
				day = day.AddDays(2);
			else if (day.DayOfWeek == DayOfWeek.Sunday)
				day = day.AddDays(1);
			return day;
		}

		public static bool InWindow(DateTime utc, TimeZoneInfo eastern, IList<VrevWindow> windows)
		{
			DateTime et = ToEastern(utc, eastern);
			if (et.DayOfWeek == DayOfWeek.Saturday || et.DayOfWeek == DayOfWeek.Sunday)
				return false;
			foreach (VrevWindow w in windows)
				if (w.Contains(et.TimeOfDay))
					return true;
			return false;
		}
	}

	public enum VrevDecisionKind
	{
		Execute,
		Wait,
		Duplicate,
		Reject
	}

	public sealed class VrevDecision
	{
		public VrevDecisionKind Kind;
		public string Reason;
		public string Detail;

		public static VrevDecision Make(VrevDecisionKind kind, string reason, string detail)
		{
			return new VrevDecision { Kind = kind, Reason = reason, Detail = detail };
		}
	}

	/// <summary>Admission rules of the auto-trader, evaluated on data time (never the wall clock).</summary>
	public sealed class VrevRules
	{
		public VrevRules()
		{
			Windows = new List<VrevWindow>();
			EnableBuy = true;
			EnableSell = true;
			MaxSignalsPerDay = 20;
		}

		public bool EnableBuy;
		public bool EnableSell;
		public int MaxSignalsPerDay;
		/// <summary>Expected INSTRUMENT (master instrument name, e.g. ES); null = not checked.</summary>
		public string Instrument;
		public TimeZoneInfo Eastern;
		public List<VrevWindow> Windows { get; private set; }

		public static string Describe(IList<VrevWindow> windows)
		{
			if (windows.Count == 0)
				return "(none: nothing will trade)";
			List<string> parts = new List<string>();
			foreach (VrevWindow w in windows)
				parts.Add(w.ToString());
			return string.Join(", ", parts.ToArray());
		}

		/// <summary>Stale = data time after EXPIRES (data time equal to EXPIRES is still valid).</summary>
		public static bool IsStale(VrevSignal s, DateTime dataTimeUtc)
		{
			return dataTimeUtc > s.ExpiresUtc;
		}

		/// <summary>The latest price must still lie strictly between stop and target.</summary>
		public static bool PriceStillValid(VrevSide side, double lastPrice, double stop, double target)
		{
			if (double.IsNaN(lastPrice) || lastPrice <= 0)
				return true; // no price known yet: NinjaTrader validates the orders
			return side == VrevSide.Buy ? stop < lastPrice && lastPrice < target : target < lastPrice && lastPrice < stop;
		}

		/// <summary>
		/// Order: duplicate, not yet due (data time before SIGNAL_TIME: wait, e.g. files prepared
		/// for Playback), stale, side switch, instrument, window, daily cap, position, price.
		/// </summary>
		public static VrevDecision Decide(VrevRules r, VrevSignal s, DateTime dataTimeUtc, VrevProcessedStore store, bool flat, double lastPrice)
		{
			if (store != null && store.Contains(s.Id))
				return VrevDecision.Make(VrevDecisionKind.Duplicate, "duplicate", "already processed (" + store.OutcomeOf(s.Id) + ")");
			if (dataTimeUtc < s.SignalTimeUtc)
				return VrevDecision.Make(VrevDecisionKind.Wait, "not_yet", "data time " + VrevFormat.Utc(dataTimeUtc) + " is before SIGNAL_TIME");
			if (IsStale(s, dataTimeUtc))
				return VrevDecision.Make(VrevDecisionKind.Reject, "stale", "data time " + VrevFormat.Utc(dataTimeUtc) + " is after EXPIRES " + VrevFormat.Utc(s.ExpiresUtc));
			if (s.Side == VrevSide.Buy && !r.EnableBuy)
				return VrevDecision.Make(VrevDecisionKind.Reject, "buy_disabled", "Enable buy is off");
			if (s.Side == VrevSide.Sell && !r.EnableSell)
				return VrevDecision.Make(VrevDecisionKind.Reject, "sell_disabled", "Enable sell is off");
			if (r.Instrument != null && !string.Equals(r.Instrument, s.Instrument ?? "", StringComparison.OrdinalIgnoreCase))
				return VrevDecision.Make(VrevDecisionKind.Reject, "instrument", "signal INSTRUMENT '" + s.Instrument + "' is not this chart's " + r.Instrument);
			if (!VrevSession.InWindow(dataTimeUtc, r.Eastern, r.Windows))
				return VrevDecision.Make(VrevDecisionKind.Reject, "window", "data time " + VrevFormat.Utc(dataTimeUtc) + " is outside the trading windows");
			DateTime day = VrevSession.TradingDay(dataTimeUtc, r.Eastern);
			int today = store != null ? store.AcceptedOn(day) : 0;
			if (today >= r.MaxSignalsPerDay)
				return VrevDecision.Make(VrevDecisionKind.Reject, "daily_limit", today.ToString(CultureInfo.InvariantCulture) + " signals already accepted on trading day " + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
			if (!flat)
				return VrevDecision.Make(VrevDecisionKind.Reject, "position_open", "a vrev position or entry is still open");
			if (!PriceStillValid(s.Side, lastPrice, s.StopLoss, s.TakeProfit))
				return VrevDecision.Make(VrevDecisionKind.Reject, "price_moved", "last price " + VrevFormat.Price(lastPrice) + " is no longer between stop and target");
			return VrevDecision.Make(VrevDecisionKind.Execute, "ok", "");
		}
	}

	public enum VrevExitKind
	{
		Stop,
		Target,
		MaxHold,
		Other
	}

	public static class VrevExits
	{
		/// <summary>NinjaTrader's order names of SetStopLoss / SetProfitTarget exits.</summary>
		public const string StopLossName = "Stop loss";
		public const string ProfitTargetName = "Profit target";
		public const string MaxHoldSignalName = "vrev max hold";

		public static VrevExitKind Classify(string orderName)
		{
			if (orderName == StopLossName)
				return VrevExitKind.Stop;
			if (orderName == ProfitTargetName)
				return VrevExitKind.Target;
			if (orderName == MaxHoldSignalName)
				return VrevExitKind.MaxHold;
			return VrevExitKind.Other;
		}

		public static string Label(VrevExitKind kind)
		{
			if (kind == VrevExitKind.Stop) return "stop";
			if (kind == VrevExitKind.Target) return "target";
			if (kind == VrevExitKind.MaxHold) return "max_hold";
			return "other";
		}

		/// <summary>Max hold deadline: entry fill time + MAX_HOLD_MINUTES (exit when data time &gt;= deadline).</summary>
		public static DateTime MaxHoldDeadline(DateTime entryUtc, int maxHoldMinutes)
		{
			return entryUtc.AddMinutes(maxHoldMinutes);
		}
	}

	public sealed class VrevTradeRecord
	{
		public string SignalId;
		public VrevSide Side;
		public int Quantity;
		public DateTime EntryTimeUtc;
		public double EntryPrice;
		public DateTime ExitTimeUtc;
		public double ExitPrice;
		public VrevExitKind ExitKind;
		public double Points;
		public double PnlCurrency;
	}

	/// <summary>Fills of one vrev trade (partial fills averaged). Not thread-safe: the caller locks.</summary>
	public sealed class VrevTradeTracker
	{
		private double entryValue;
		private double exitValue;
		private VrevExitKind lastExitKind = VrevExitKind.Other;

		public VrevTradeTracker(VrevSignal signal, string signalName, int quantity, double pointValue)
		{
			Signal = signal;
			SignalName = signalName;
			OrderedQuantity = quantity;
			PointValue = pointValue;
		}

		public VrevSignal Signal { get; private set; }
		public string SignalName { get; private set; }
		public int OrderedQuantity { get; private set; }
		public double PointValue { get; private set; }
		public VrevSide Side { get { return Signal.Side; } }
		public int EntryQuantity { get; private set; }
		public int ExitQuantity { get; private set; }
		public int OpenQuantity { get { return EntryQuantity - ExitQuantity; } }
		public DateTime? EntryTimeUtc { get; private set; }
		public DateTime LastExitTimeUtc { get; private set; }
		public bool MaxHoldRequested { get; set; }

		public DateTime? Deadline
		{
			get { return EntryTimeUtc.HasValue ? VrevExits.MaxHoldDeadline(EntryTimeUtc.Value, Signal.MaxHoldMinutes) : (DateTime?)null; }
		}

		public bool IsMaxHoldDue(DateTime dataTimeUtc)
		{
			return !MaxHoldRequested && OpenQuantity > 0 && Deadline.HasValue && dataTimeUtc >= Deadline.Value;
		}

		public void OnEntryFill(double price, int quantity, DateTime utc)
		{
			if (!EntryTimeUtc.HasValue)
				EntryTimeUtc = utc;
			entryValue += price * quantity;
			EntryQuantity += quantity;
		}

		/// <summary>Returns the finished trade when the position is flat again, else null.</summary>
		public VrevTradeRecord OnExitFill(double price, int quantity, DateTime utc, VrevExitKind kind)
		{
			int q = Math.Min(quantity, OpenQuantity);
			if (q <= 0)
				return null;
			exitValue += price * q;
			ExitQuantity += q;
			LastExitTimeUtc = utc;
			lastExitKind = kind;
			if (OpenQuantity > 0)
				return null;
			VrevTradeRecord r = new VrevTradeRecord();
			r.SignalId = Signal.Id;
			r.Side = Signal.Side;
			r.Quantity = EntryQuantity;
			r.EntryTimeUtc = EntryTimeUtc ?? utc;
			r.EntryPrice = entryValue / EntryQuantity;
			r.ExitTimeUtc = utc;
			r.ExitPrice = exitValue / ExitQuantity;
			r.ExitKind = lastExitKind;
			double sign = Signal.Side == VrevSide.Buy ? 1.0 : -1.0;
			r.Points = Math.Round(sign * (r.ExitPrice - r.EntryPrice), 8);
			r.PnlCurrency = Math.Round(r.Points * r.Quantity * PointValue, 2);
			return r;
		}
	}

	/// <summary>CSV trade log (gross P&amp;L, before commissions).</summary>
	public static class VrevTradeLog
	{
		public const string Header = "signal_id,side,quantity,entry_time_utc,entry_price,exit_time_utc,exit_price,exit_reason,points,pnl";
		private static readonly object FileLock = new object();

		public static string FormatLine(VrevTradeRecord r)
		{
			return r.SignalId + "," + (r.Side == VrevSide.Buy ? "BUY" : "SELL") + "," + r.Quantity.ToString(CultureInfo.InvariantCulture)
				+ "," + VrevFormat.Utc(r.EntryTimeUtc) + "," + VrevFormat.Price(r.EntryPrice)
				+ "," + VrevFormat.Utc(r.ExitTimeUtc) + "," + VrevFormat.Price(r.ExitPrice)
				+ "," + VrevExits.Label(r.ExitKind) + "," + VrevFormat.Price(r.Points)
				+ "," + r.PnlCurrency.ToString("0.00", CultureInfo.InvariantCulture);
		}

		public static void Append(string path, VrevTradeRecord r)
		{
			lock (FileLock)
			{
				bool exists = File.Exists(path);
				string dir = Path.GetDirectoryName(Path.GetFullPath(path));
				if (!string.IsNullOrEmpty(dir))
					Directory.CreateDirectory(dir);
				File.AppendAllText(path, (exists ? "" : Header + "\n") + FormatLine(r) + "\n", new UTF8Encoding(false));
			}
		}
	}

	public static class VrevFormat
	{
		public static string Utc(DateTime utc)
		{
			return DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
		}

		public static string Price(double value)
		{
			return value.ToString("0.00######", CultureInfo.InvariantCulture);
		}

		public static string HourMinute(TimeSpan t)
		{
			return ((int)t.TotalHours).ToString("00", CultureInfo.InvariantCulture) + ":" + t.Minutes.ToString("00", CultureInfo.InvariantCulture);
		}
	}

	public static class VrevPaths
	{
		/// <summary>Account names like "Playback101" or "Sim101" made safe for a file name.</summary>
		public static string SafeFilePart(string name)
		{
			if (string.IsNullOrEmpty(name))
				return "account";
			StringBuilder sb = new StringBuilder();
			foreach (char c in name)
				sb.Append(char.IsLetterOrDigit(c) || c == '-' || c == '_' ? c : '_');
			return sb.ToString();
		}
	}

	/// <summary>Time zone lookup and conversions (same rules as the publisher's VrevTime).</summary>
	public static class VrevTime
	{
		/// <summary>Empty id = this PC's zone. Windows and IANA ids of the US zones are tried both ways.</summary>
		public static TimeZoneInfo FindZone(string id)
		{
			if (string.IsNullOrWhiteSpace(id))
				return TimeZoneInfo.Local;
			string trimmed = id.Trim();
			TimeZoneInfo zone = TryFind(trimmed);
			if (zone != null)
				return zone;
			string alternate = AlternateId(trimmed);
			if (alternate != null)
			{
				zone = TryFind(alternate);
				if (zone != null)
					return zone;
			}
			throw new TimeZoneNotFoundException("time zone '" + trimmed + "' not found" + (alternate != null ? " (also tried '" + alternate + "')" : ""));
		}

		/// <summary>America/New_York by its Windows id, or its IANA id where Windows ids do not resolve.</summary>
		public static TimeZoneInfo Eastern()
		{
			return FindZone("Eastern Standard Time");
		}

		public static string AlternateId(string id)
		{
			string[,] pairs = {
				{ "Eastern Standard Time", "America/New_York" },
				{ "Central Standard Time", "America/Chicago" },
				{ "Mountain Standard Time", "America/Denver" },
				{ "Pacific Standard Time", "America/Los_Angeles" },
				{ "GMT Standard Time", "Europe/London" },
				{ "W. Europe Standard Time", "Europe/Berlin" },
				{ "UTC", "Etc/UTC" }
			};
			for (int i = 0; i < pairs.GetLength(0); i++)
			{
				if (string.Equals(pairs[i, 0], id, StringComparison.OrdinalIgnoreCase))
					return pairs[i, 1];
				if (string.Equals(pairs[i, 1], id, StringComparison.OrdinalIgnoreCase))
					return pairs[i, 0];
			}
			return null;
		}

		private static TimeZoneInfo TryFind(string id)
		{
			try
			{
				return TimeZoneInfo.FindSystemTimeZoneById(id);
			}
			catch (TimeZoneNotFoundException)
			{
				return null;
			}
			catch (InvalidTimeZoneException)
			{
				return null;
			}
		}

		/// <summary>
		/// Wall time in zone to UTC. An ambiguous time (fall back) takes the earlier instant unless
		/// that is not after previousUtc; a time in the spring gap is read with the standard offset.
		/// </summary>
		public static DateTime ToUtc(DateTime wallTime, TimeZoneInfo zone, DateTime? previousUtc)
		{
			if (wallTime.Kind == DateTimeKind.Utc)
				return wallTime;
			DateTime t = DateTime.SpecifyKind(wallTime, DateTimeKind.Unspecified);
			if (zone == null)
				zone = TimeZoneInfo.Local;
			if (zone.IsInvalidTime(t))
				return DateTime.SpecifyKind(t - zone.BaseUtcOffset, DateTimeKind.Utc);
			if (zone.IsAmbiguousTime(t))
			{
				TimeSpan[] offsets = zone.GetAmbiguousTimeOffsets(t);
				TimeSpan max = offsets[0], min = offsets[0];
				for (int i = 1; i < offsets.Length; i++)
				{
					if (offsets[i] > max) max = offsets[i];
					if (offsets[i] < min) min = offsets[i];
				}
				DateTime early = DateTime.SpecifyKind(t - max, DateTimeKind.Utc);
				if (previousUtc.HasValue && previousUtc.Value != DateTime.MinValue && early <= previousUtc.Value)
					return DateTime.SpecifyKind(t - min, DateTimeKind.Utc);
				return early;
			}
			return DateTime.SpecifyKind(TimeZoneInfo.ConvertTimeToUtc(t, zone), DateTimeKind.Utc);
		}

		/// <summary>RFC 3339 UTC ("Z" or an explicit offset), with or without fractions of a second.</summary>
		public static bool TryParseUtc(string text, out DateTime utc)
		{
			utc = DateTime.MinValue;
			if (string.IsNullOrEmpty(text) || text.IndexOf('T') < 0)
				return false;
			string[] formats = {
				"yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
				"yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz"
			};
			DateTimeOffset dto;
			if (!DateTimeOffset.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out dto))
				return false;
			utc = DateTime.SpecifyKind(dto.UtcDateTime, DateTimeKind.Utc);
			return true;
		}
	}
}
