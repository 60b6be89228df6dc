// vrev auto-trader for NinjaTrader 8: executes vrev signal and exit files (docs/protocol.md
// sections 1, 1a, 1b, 1c; protocol 2).
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
		/// <summary>Name of the market exit submitted at the close of the first bar at or after FLAT_BY_ET.</summary>
		public const string FlatByExitName = VrevExits.FlatBySignalName;
		/// <summary>Name of the market exit submitted for an exit file (docs/protocol.md section 1b).</summary>
		public const string ScriptExitName = VrevExits.ScriptExitSignalName;

		private readonly object scanLock = new object();
		private readonly object processLock = new object();
		private readonly object tradeLock = new object();
		private readonly ConcurrentQueue<VrevSignal> incoming = new ConcurrentQueue<VrevSignal>();
		private readonly ConcurrentQueue<VrevExitFile> incomingExits = new ConcurrentQueue<VrevExitFile>();
		private readonly List<VrevSignal> pending = new List<VrevSignal>();
		private readonly List<VrevExitFile> pendingExits = new List<VrevExitFile>();
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
		private string prefix;
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
					Description = "Executes vrev signal and exit files (KEY=VALUE, protocol 2) with managed stop and target orders.";
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
					SignalFilePrefix = VrevLimits.DefaultPrefix;
					PollIntervalMilliseconds = 500;
					MaxQuantity = VrevLimits.DefaultMaxQuantity;
					MaxStopPoints = VrevLimits.DefaultMaxStopPoints;
					MaxTargetPoints = VrevLimits.DefaultMaxTargetPoints;
					MaxSignalLifeSeconds = VrevLimits.DefaultMaxSignalLifeSeconds;
					MaxHoldMinutes = VrevLimits.DefaultMaxHoldMinutes;
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
					string prefixError = VrevSignalFiles.PrefixProblem(SignalFilePrefix);
					if (prefixError != null)
						throw new ArgumentException("Signal file prefix: " + prefixError);
					prefix = SignalFilePrefix;
					rules = new VrevRules();
					rules.EnableBuy = EnableBuy;
					rules.EnableSell = EnableSell;
					rules.MaxSignalsPerDay = MaxSignalsPerDay;
					rules.MaxQuantity = MaxQuantity;
					rules.MaxStopPoints = MaxStopPoints;
					rules.MaxTargetPoints = MaxTargetPoints;
					rules.MaxSignalLifeSeconds = MaxSignalLifeSeconds;
					rules.MaxHoldMinutes = MaxHoldMinutes;
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
					LogLine("speaks vrev signal protocol " + VrevProtocol.Version.ToString(CultureInfo.InvariantCulture)
						+ " (refuses files with a newer PROTOCOL); signals " + SignalsFolder + " (" + prefix + "*.txt, exits " + prefix + "*.exit), state " + store.Path + ", "
						+ store.Count.ToString(CultureInfo.InvariantCulture) + " processed IDs, windows " + VrevRules.Describe(rules.Windows) + " ET, " + rules.DescribeLimits());
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
				// The exit plan at this bar's close (docs/protocol.md section 1a): max hold, then
				// flat-by (market exits at this close); otherwise breakeven, then trail.
				CheckMaxHold();
				CheckFlatBy();
				MoveStop(Close[0]);
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
						// A stop fill is named after the rule that last moved the stop (stop, breakeven, trail).
						VrevExitKind kind = VrevExits.Classify(orderName);
						if (kind == VrevExitKind.Stop)
							kind = active.StopRule;
						done = active.OnExitFill(price, quantity, utc, kind);
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

		/// <summary>
		/// Reads new signal (.txt) and exit (.exit) files with the configured prefix (file I/O only,
		/// any thread). Returns the number of new files queued.
		/// </summary>
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
					VrevFileKind kind = VrevSignalFiles.KindOf(name, prefix);
					if (kind == VrevFileKind.None)
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
						if (fi.Length > VrevSignalFiles.MaxFileBytes)
						{
							seenFiles[name] = stamp;
							Refuse(path, name, "refused " + name + ":0: " + fi.Length.ToString(CultureInfo.InvariantCulture) + " bytes, more than the "
								+ VrevSignalFiles.MaxFileBytes.ToString(CultureInfo.InvariantCulture) + " a vrev file can have");
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
					if (kind == VrevFileKind.Exit)
					{
						VrevExitParseResult e = VrevExitParser.Parse(name, text);
						if (e.Exit == null)
						{
							Refuse(path, name, "rejected malformed exit file " + e.Error);
							continue;
						}
						string expectedExit = VrevSignalFiles.ExitFileName(prefix, e.Exit.Id);
						if (name != expectedExit)
						{
							Refuse(path, name, "rejected exit file " + name + ": its SIGNAL_ID " + e.Exit.Id + " belongs in " + expectedExit + " (vrev writes <prefix><SIGNAL_ID>.exit)");
							continue;
						}
						if (store.Contains(VrevExitFile.Key(e.Exit.Id)))
							continue;
						incomingExits.Enqueue(e.Exit);
						added++;
						continue;
					}
					VrevParseResult r = VrevSignalParser.Parse(name, text);
					if (r.Signal == null)
					{
						Refuse(path, name, "rejected malformed signal file " + r.Error);
						continue;
					}
					string expected = VrevSignalFiles.SignalFileName(prefix, r.Signal.Id);
					if (name != expected)
					{
						Refuse(path, name, "rejected signal file " + name + ": its SIGNAL_ID " + r.Signal.Id + " belongs in " + expected + " (vrev writes <prefix><SIGNAL_ID>.txt)");
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
		/// Refuses a signal or exit file once: one log line, moved to rejected\ when possible, and
		/// its name recorded in the processed list, so it is never read again, even after a restart
		/// or when it cannot be moved. Caller holds scanLock.
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

		/// <summary>Decides on queued signal and exit files. Runs only in NinjaScript event context; never blocks.</summary>
		private void ProcessPending()
		{
			if (!Monitor.TryEnter(processLock))
				return;
			try
			{
				VrevExitFile x;
				while (incomingExits.TryDequeue(out x))
				{
					bool dup = false;
					foreach (VrevExitFile p in pendingExits)
						if (p.Id == x.Id) dup = true;
					if (!dup)
						pendingExits.Add(x);
				}
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
				// Exits after signals: an exit that arrives with its own signal waits for the entry's fill.
				ProcessExits(now);
				pendingCount = pending.Count + pendingExits.Count;
			}
			finally
			{
				Monitor.Exit(processLock);
			}
		}

		/// <summary>Exit files (docs/protocol.md section 1b). Caller holds processLock.</summary>
		private void ProcessExits(DateTime now)
		{
			List<VrevExitFile> done = new List<VrevExitFile>();
			foreach (VrevExitFile x in pendingExits)
			{
				string heldId = null;
				bool open = false;
				lock (tradeLock)
				{
					if (active != null)
					{
						heldId = active.Signal.Id;
						open = active.OpenQuantity > 0;
					}
				}
				VrevDecision d = VrevRules.DecideExit(rules, x, now, store, heldId, open);
				if (d.Kind == VrevDecisionKind.Wait)
					continue;
				done.Add(x);
				if (d.Kind == VrevDecisionKind.Duplicate)
					continue;
				DateTime day = VrevSession.TradingDay(now, eastern);
				if (d.Kind == VrevDecisionKind.Reject)
				{
					store.Add(VrevExitFile.Key(x.Id), d.Reason, day);
					LogLine("exit " + x.Id + " ignored (" + d.Reason + "): " + d.Detail);
					continue;
				}
				// Persisted before the order goes out: a restart can never exit twice.
				store.Add(VrevExitFile.Key(x.Id), VrevProcessedStore.ExitAccepted, day);
				SubmitScriptExit(x, now);
			}
			foreach (VrevExitFile x in done)
				pendingExits.Remove(x);
		}

		private void Submit(VrevSignal sig, DateTime nowUtc)
		{
			string name = VrevSignalName.For(sig.Id);
			int quantity = sig.Quantity; // above Max quantity it was refused, never capped
			VrevTradeTracker tracker = new VrevTradeTracker(sig, name, quantity, Instrument != null && Instrument.MasterInstrument != null ? Instrument.MasterInstrument.PointValue : 0.0);
			if (sig.FlatByEt.HasValue)
				tracker.FlatByUtc = VrevTime.ToUtc(sig.FlatByEt.Value, eastern, null);
			lock (tradeLock)
				active = tracker;
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
				+ " max hold " + sig.MaxHoldMinutes.ToString(CultureInfo.InvariantCulture) + " min" + VrevExitPlan.Describe(sig, tracker.FlatByUtc)
				+ ", data time " + VrevFormat.Utc(nowUtc));
		}

		private void SubmitScriptExit(VrevExitFile x, DateTime nowUtc)
		{
			if (RequestMarketExit(t => t.Signal.Id == x.Id && t.OpenQuantity > 0 && !t.ExitRequested, ScriptExitName) == null)
			{
				LogLine("exit " + x.Id + " accepted, but an exit of that trade is already under way");
				return;
			}
			LogLine("exit " + x.Id + " accepted (script: " + x.Reason + "): exit at market, data time " + VrevFormat.Utc(nowUtc));
		}

		private void CheckMaxHold()
		{
			DateTime now = DataTimeUtc;
			string entryName = RequestMarketExit(t => t.IsMaxHoldDue(now), MaxHoldExitName);
			if (entryName != null)
				LogLine("max hold reached for " + entryName + " at data time " + VrevFormat.Utc(now) + ": exit at market");
		}

		/// <summary>FLAT_BY_ET: still open at the close of the first bar whose close is at or after it. OnBarUpdate only.</summary>
		private void CheckFlatBy()
		{
			DateTime now = DataTimeUtc;
			string entryName = RequestMarketExit(t => t.IsFlatByDue(now), FlatByExitName);
			if (entryName != null)
				LogLine("flat by " + VrevFormat.Utc(now) + " reached for " + entryName + ": exit at market");
		}

		/// <summary>The one way a market exit is sent (script exit, max hold, flat by): under the lock, when
		/// <paramref name="due"/> holds for the active trade, it is marked as exiting; then the exit order named
		/// <paramref name="exitName"/> goes out for its side. Returns the entry's name, or null when nothing was sent.</summary>
		private string RequestMarketExit(Func<VrevTradeTracker, bool> due, string exitName)
		{
			string entryName = null;
			VrevSide side = VrevSide.Buy;
			lock (tradeLock)
			{
				if (active != null && due(active))
				{
					active.ExitRequested = true;
					entryName = active.SignalName;
					side = active.Side;
				}
			}
			if (entryName == null)
				return null;
			if (side == VrevSide.Buy)
				ExitLong(exitName, entryName);
			else
				ExitShort(exitName, entryName);
			return entryName;
		}

		/// <summary>Breakeven, then trail, on this bar's close; the stop order moves only when strictly better. OnBarUpdate only.</summary>
		private void MoveStop(double close)
		{
			string entryName = null;
			double stop = 0;
			VrevExitKind rule = VrevExitKind.Stop;
			lock (tradeLock)
			{
				if (active != null && active.OpenQuantity > 0 && !active.ExitRequested && active.OnBarClose(close))
				{
					entryName = active.SignalName;
					stop = active.Stop;
					rule = active.StopRule;
				}
			}
			if (entryName == null)
				return;
			SetStopLoss(entryName, CalculationMode.Price, stop, false);
			LogLine("stop of " + entryName + " moved to " + VrevFormat.Price(stop) + " (" + VrevExits.Label(rule) + ") at the close " + VrevFormat.Price(close)
				+ " of the bar at " + VrevFormat.Utc(DataTimeUtc));
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

		[Display(Name = "Signal file prefix", Description = "Only <prefix>*.txt (signals) and <prefix>*.exit (exits) are read; the profile's signal_prefix in vrev.", Order = 4, GroupName = "Signals")]
		public string SignalFilePrefix { get; set; }

		[Range(1, 1000)]
		[Display(Name = "Max quantity", Description = "A signal whose QUANTITY is above it is refused (never capped: a smaller trade is not the trade vrev tested).", Order = 1, GroupName = "Risk")]
		public int MaxQuantity { get; set; }

		[Range(0.01, 100000.0)]
		[Display(Name = "Max stop (points)", Description = "A signal whose STOP_LOSS is farther than this from ENTRY_PRICE is refused.", Order = 2, GroupName = "Risk")]
		public double MaxStopPoints { get; set; }

		[Range(0.01, 100000.0)]
		[Display(Name = "Max target (points)", Description = "A signal whose TAKE_PROFIT is farther than this from ENTRY_PRICE is refused.", Order = 3, GroupName = "Risk")]
		public double MaxTargetPoints { get; set; }

		[Range(1, 86400)]
		[Display(Name = "Max signal life (s)", Description = "A signal or exit file whose EXPIRES is more than this after its SIGNAL_TIME is refused.", Order = 4, GroupName = "Risk")]
		public int MaxSignalLifeSeconds { get; set; }

		[Range(1, 100000)]
		[Display(Name = "Max hold (minutes)", Description = "A signal whose MAX_HOLD_MINUTES is above this is refused.", Order = 5, GroupName = "Risk")]
		public int MaxHoldMinutes { get; set; }

		[Display(Name = "Enable buy", Description = "Execute BUY signals.", Order = 6, GroupName = "Risk")]
		public bool EnableBuy { get; set; }

		[Display(Name = "Enable sell", Description = "Execute SELL signals.", Order = 7, GroupName = "Risk")]
		public bool EnableSell { get; set; }

		[Range(1, 10000)]
		[Display(Name = "Max signals per trading day", Description = "Accepted signals per CME trading day (rolls at 18:00 ET).", Order = 8, GroupName = "Risk")]
		public int MaxSignalsPerDay { get; set; }

		[Display(Name = "Check instrument", Description = "Reject a signal whose INSTRUMENT is not this chart's master instrument (e.g. ES).", Order = 9, GroupName = "Risk")]
		public bool CheckInstrument { get; set; }

		[Display(Name = "Window 1 start (ET)", Description = "HH:mm, inclusive. Empty start and end = window off. An end before the start wraps past midnight (trading-day rule).", Order = 10, GroupName = "Windows")]
		public string Window1Start { get; set; }

		[Display(Name = "Window 1 end (ET)", Description = "HH:mm, exclusive.", Order = 11, GroupName = "Windows")]
		public string Window1End { get; set; }

		[Display(Name = "Window 2 start (ET)", Description = "HH:mm, inclusive. Empty start and end = window off. An end before the start wraps past midnight (trading-day rule).", Order = 12, GroupName = "Windows")]
		public string Window2Start { get; set; }

		[Display(Name = "Window 2 end (ET)", Description = "HH:mm, exclusive.", Order = 13, GroupName = "Windows")]
		public string Window2End { get; set; }

		[Display(Name = "Window 3 start (ET)", Description = "HH:mm, inclusive. Empty start and end = window off. An end before the start wraps past midnight (trading-day rule).", Order = 14, GroupName = "Windows")]
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

	/// <summary>The signal protocol this auto-trader speaks (docs/protocol.md sections 1a-1c).</summary>
	public static class VrevProtocol
	{
		/// <summary>Files whose PROTOCOL is greater than this are refused.</summary>
		public const int Version = 2;
	}

	/// <summary>
	/// Defaults of the properties that bound what a signal file may ask for (issue 24): a file
	/// beyond them is refused, never clamped. Every shipped vrev profile fits them; `vrev check`
	/// warns about a profile that can write more.
	/// </summary>
	public static class VrevLimits
	{
		public const string DefaultPrefix = "vreversal_";
		public const int DefaultMaxQuantity = 3;
		public const double DefaultMaxStopPoints = 30.0;
		public const double DefaultMaxTargetPoints = 60.0;
		public const int DefaultMaxSignalLifeSeconds = 300;
		public const int DefaultMaxHoldMinutes = 1440;
	}

	/// <summary>One parsed signal file. Values holds every KEY=VALUE as written (extras included).</summary>
	public sealed class VrevSignal
	{
		public VrevSignal()
		{
			Values = new Dictionary<string, string>(StringComparer.Ordinal);
			Extras = new Dictionary<string, string>(StringComparer.Ordinal);
			Protocol = 1;
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
		/// <summary>PROTOCOL (1 when the line is absent).</summary>
		public int Protocol { get; set; }
		/// <summary>BREAKEVEN_AT_POINTS: a close this far beyond the entry fill moves the stop to the entry fill; null = none.</summary>
		public double? BreakevenAtPoints { get; set; }
		/// <summary>TRAIL_POINTS: the stop follows the best close since entry this far behind; null = none.</summary>
		public double? TrailPoints { get; set; }
		/// <summary>FLAT_BY_ET as written (America/New_York wall time, Unspecified kind); null = none.</summary>
		public DateTime? FlatByEt { get; set; }
		public bool HasExitPlan { get { return BreakevenAtPoints.HasValue || TrailPoints.HasValue || FlatByEt.HasValue; } }
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

	/// <summary>One parsed exit file (docs/protocol.md section 1b): exit the trade of SIGNAL_ID at market.</summary>
	public sealed class VrevExitFile
	{
		public string SourceFile { get; set; }
		public string Id { get; set; }
		public string Reason { get; set; }
		public DateTime SignalTimeUtc { get; set; }
		public DateTime ExpiresUtc { get; set; }
		public int Protocol { get; set; }

		/// <summary>Key of a processed exit in the processed list (the same name as in vrev's ledger).</summary>
		public static string Key(string signalId)
		{
			return "exit:" + signalId;
		}
	}

	public sealed class VrevExitParseResult
	{
		public VrevExitFile Exit;
		/// <summary>"file:line: message" when the file is malformed.</summary>
		public string Error;
	}

	public enum VrevFileKind
	{
		None,
		Signal,
		Exit
	}

	public static class VrevSignalFiles
	{
		/// <summary>Failed reads in a row after which an unreadable file is refused (about 50 s at the default poll interval).</summary>
		public const int MaxReadAttempts = 100;
		/// <summary>Larger files are refused unread (vrev's files are well under 4 KB).</summary>
		public const long MaxFileBytes = 65536;
		public const string SignalExtension = ".txt";
		public const string ExitExtension = ".exit";

		/// <summary>Key of a refused file in the processed list ("file:" + name; vrev's IDs start with a date).</summary>
		public static string RefusedKey(string fileName)
		{
			StringBuilder sb = new StringBuilder("file:");
			foreach (char c in fileName ?? "")
				sb.Append(char.IsControl(c) ? '?' : c); // the list is tab- and line-separated
			return sb.ToString();
		}

		/// <summary>
		/// What a file in the signals folder is: a signal (prefix + ... + .txt), an exit (prefix +
		/// ... + .exit), or nothing to read (other names, names starting with '.', ending in .tmp).
		/// The prefix is case-sensitive, as vrev writes it. vrev's lock on the folder, `.vrev-lock`
		/// (one engine per signals folder), is never read: it starts with '.', has no prefix and
		/// does not end in .txt or .exit.
		/// </summary>
		public static VrevFileKind KindOf(string fileName, string prefix)
		{
			if (string.IsNullOrEmpty(fileName) || fileName.StartsWith(".", StringComparison.Ordinal))
				return VrevFileKind.None;
			if (string.IsNullOrEmpty(prefix) || !fileName.StartsWith(prefix, StringComparison.Ordinal) || fileName.Length <= prefix.Length)
				return VrevFileKind.None;
			if (fileName.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase))
				return VrevFileKind.None;
			if (fileName.EndsWith(SignalExtension, StringComparison.OrdinalIgnoreCase))
				return VrevFileKind.Signal;
			if (fileName.EndsWith(ExitExtension, StringComparison.OrdinalIgnoreCase))
				return VrevFileKind.Exit;
			return VrevFileKind.None;
		}

		/// <summary>A signal file to read: prefix + ... + .txt (see KindOf).</summary>
		public static bool IsCandidate(string fileName, string prefix)
		{
			return KindOf(fileName, prefix) == VrevFileKind.Signal;
		}

		public static string SignalFileName(string prefix, string signalId)
		{
			return prefix + signalId + SignalExtension;
		}

		public static string ExitFileName(string prefix, string signalId)
		{
			return prefix + signalId + ExitExtension;
		}

		/// <summary>null when the prefix is usable (what vrev accepts for signal_prefix), else why not.</summary>
		public static string PrefixProblem(string prefix)
		{
			if (string.IsNullOrEmpty(prefix))
				return "empty (vrev writes vreversal_ unless the profile sets signal_prefix)";
			if (prefix.Length > 64)
				return "longer than 64 characters";
			foreach (char c in prefix)
				if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
					return "'" + prefix + "' has a character other than letters, digits, '_' and '-'";
			return null;
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

	/// <summary>KEY=VALUE lines (docs/protocol.md section 1): shared by signal and exit files.</summary>
	public sealed class VrevKeyValues
	{
		private VrevKeyValues()
		{
			Values = new Dictionary<string, string>(StringComparer.Ordinal);
			LineOf = new Dictionary<string, int>(StringComparer.Ordinal);
		}

		public Dictionary<string, string> Values { get; private set; }
		public Dictionary<string, int> LineOf { get; private set; }
		/// <summary>Number of the last line (for "missing key" errors).</summary>
		public int LastLine { get; private set; }

		/// <summary>Reads the lines; null and error "file:line: message" when malformed. Never throws.</summary>
		public static VrevKeyValues Read(string file, string text, out string error)
		{
			error = null;
			if (text == null || text.Trim().Length == 0)
			{
				error = file + ":1: empty file";
				return null;
			}
			if (text.Length > 0 && text[0] == '\uFEFF')
				text = text.Substring(1);
			VrevKeyValues kv = new VrevKeyValues();
			string[] lines = text.Split('\n');
			int lastLine = lines.Length;
			if (lastLine > 1 && lines[lastLine - 1].Length == 0)
				lastLine--;
			kv.LastLine = lastLine;
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
				{
					error = At(file, lineNo, "expected KEY=VALUE, found '" + Shorten(line) + "'");
					return null;
				}
				string key = line.Substring(0, eq);
				string value = line.Substring(eq + 1);
				if (!IsKey(key))
				{
					error = At(file, lineNo, "invalid key '" + Shorten(key) + "' (keys are upper case A-Z, 0-9, _)");
					return null;
				}
				if (kv.LineOf.ContainsKey(key))
				{
					error = At(file, lineNo, "duplicate key " + key + " (first on line " + kv.LineOf[key].ToString(CultureInfo.InvariantCulture) + ")");
					return null;
				}
				kv.LineOf[key] = lineNo;
				kv.Values[key] = value;
			}
			return kv;
		}

		public string Get(string key)
		{
			string v;
			return Values.TryGetValue(key, out v) ? v : null;
		}

		public static string At(string file, int line, string message)
		{
			return file + ":" + line.ToString(CultureInfo.InvariantCulture) + ": " + message;
		}

		public static string Shorten(string s)
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

		/// <summary>
		/// PROTOCOL, checked before anything else: absent = 1; not a whole number >= 1, or newer than
		/// VrevProtocol.Version = error (an outdated auto-trader never trades a plan it would ignore).
		/// </summary>
		public bool TryProtocol(string file, out int protocol, out string error)
		{
			protocol = 1;
			error = null;
			string v = Get("PROTOCOL");
			if (v == null)
				return true;
			int n;
			if (!VrevSignalParser.TryPositiveInt(v, out n))
			{
				error = At(file, LineOf["PROTOCOL"], "PROTOCOL '" + Shorten(v) + "' is not a whole number >= 1");
				return false;
			}
			if (n > VrevProtocol.Version)
			{
				error = At(file, LineOf["PROTOCOL"], "PROTOCOL " + n.ToString(CultureInfo.InvariantCulture) + " is newer than protocol "
					+ VrevProtocol.Version.ToString(CultureInfo.InvariantCulture) + ", the one this VrevAutoTrader speaks: install the VrevAutoTrader.cs of your vrev version");
				return false;
			}
			protocol = n;
			return true;
		}
	}

	public static class VrevSignalParser
	{
		public static readonly string[] RequiredKeys = {
			"SIGNAL_ID", "ACTION", "ENTRY_PRICE", "STOP_LOSS", "TAKE_PROFIT", "QUANTITY", "MAX_HOLD_MINUTES", "SIGNAL_TIME", "EXPIRES"
		};

		public static readonly string[] KnownKeys = {
			"SIGNAL_ID", "ACTION", "ENTRY_PRICE", "STOP_LOSS", "TAKE_PROFIT", "QUANTITY", "MAX_HOLD_MINUTES", "SIGNAL_TIME",
			"SIGNAL_TIME_ET", "EXPIRES", "INSTRUMENT", "PROFILE", "STRATEGY", "PATTERN_TYPE", "CONFIDENCE",
			"BREAKEVEN_AT_POINTS", "TRAIL_POINTS", "FLAT_BY_ET", "PROTOCOL"
		};

		/// <summary>The exit-plan keys of protocol 2 (docs/protocol.md section 1a).</summary>
		public static readonly string[] PlanKeys = { "BREAKEVEN_AT_POINTS", "TRAIL_POINTS", "FLAT_BY_ET" };

		/// <summary>Parses a signal file's text. Never throws; malformed input gives Error "file:line: message".</summary>
		public static VrevParseResult Parse(string fileName, string text)
		{
			VrevParseResult result = new VrevParseResult();
			string file = fileName ?? "(signal)";
			string error;
			VrevKeyValues kv = VrevKeyValues.Read(file, text, out error);
			if (kv == null)
			{
				result.Error = error;
				return result;
			}
			int protocol;
			if (!kv.TryProtocol(file, out protocol, out error))
			{
				result.Error = error;
				return result;
			}
			VrevSignal s = new VrevSignal();
			s.SourceFile = fileName;
			s.Protocol = protocol;
			Dictionary<string, int> lineOf = kv.LineOf;
			foreach (KeyValuePair<string, string> pair in kv.Values)
			{
				s.Values[pair.Key] = pair.Value;
				if (Array.IndexOf(KnownKeys, pair.Key) < 0)
					s.Extras[pair.Key] = pair.Value;
			}
			foreach (string key in RequiredKeys)
				if (!s.Values.ContainsKey(key))
					return Fail(result, file, kv.LastLine, "missing required key " + key);

			string v = s.Values["SIGNAL_ID"];
			if (v.Length == 0 || v.Length > 100 || HasWhitespaceOrControl(v) || v.IndexOfAny(new[] { '/', '\\', ':' }) >= 0)
				return Fail(result, file, lineOf["SIGNAL_ID"], "SIGNAL_ID '" + Shorten(v) + "' is empty, too long or has spaces or path characters");
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
				if (!TryEtWallTime(et, out etTime))
					return Fail(result, file, lineOf["SIGNAL_TIME_ET"], "SIGNAL_TIME_ET '" + Shorten(et) + "' is not yyyy-MM-dd HH:mm:ss");
				s.SignalTimeEt = etTime;
			}

			string conf;
			if (s.Values.TryGetValue("CONFIDENCE", out conf) && conf.Length > 0)
			{
				if (!TryNumber(conf, out d) || d < 0 || d > 1)
					return Fail(result, file, lineOf["CONFIDENCE"], "CONFIDENCE '" + Shorten(conf) + "' is not a number from 0 to 1");
				s.Confidence = d;
			}

			// The exit plan (protocol 2).
			string plan;
			if (s.Values.TryGetValue("BREAKEVEN_AT_POINTS", out plan))
			{
				if (!TryNumber(plan, out d) || d <= 0)
					return Fail(result, file, lineOf["BREAKEVEN_AT_POINTS"], "BREAKEVEN_AT_POINTS '" + Shorten(plan) + "' is not a positive number of points");
				s.BreakevenAtPoints = d;
			}
			if (s.Values.TryGetValue("TRAIL_POINTS", out plan))
			{
				if (!TryNumber(plan, out d) || d <= 0)
					return Fail(result, file, lineOf["TRAIL_POINTS"], "TRAIL_POINTS '" + Shorten(plan) + "' is not a positive number of points");
				s.TrailPoints = d;
			}
			if (s.Values.TryGetValue("FLAT_BY_ET", out plan))
			{
				DateTime flatBy;
				if (!TryEtWallTime(plan, out flatBy))
					return Fail(result, file, lineOf["FLAT_BY_ET"], "FLAT_BY_ET '" + Shorten(plan) + "' is not yyyy-MM-dd HH:mm:ss");
				s.FlatByEt = flatBy;
			}
			if (s.Protocol < 2)
				foreach (string key in PlanKeys)
					if (s.Values.ContainsKey(key))
						return Fail(result, file, lineOf[key], key + " needs PROTOCOL=2 (docs/protocol.md section 1a), found " + (s.Values.ContainsKey("PROTOCOL") ? "PROTOCOL=" + s.Values["PROTOCOL"] : "no PROTOCOL line"));

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
			r.Error = VrevKeyValues.At(file, line, message);
			return r;
		}

		private static string Shorten(string s)
		{
			return VrevKeyValues.Shorten(s);
		}

		public static bool HasWhitespaceOrControl(string s)
		{
			foreach (char c in s)
				if (char.IsWhiteSpace(c) || char.IsControl(c))
					return true;
			return false;
		}

		/// <summary>America/New_York wall time "yyyy-MM-dd HH:mm:ss" (Unspecified kind).</summary>
		public static bool TryEtWallTime(string s, out DateTime value)
		{
			value = DateTime.MinValue;
			DateTime t;
			if (!DateTime.TryParseExact(s, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out t))
				return false;
			value = DateTime.SpecifyKind(t, DateTimeKind.Unspecified);
			return true;
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

		public static bool TryPositiveInt(string s, out int value)
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

	/// <summary>Exit files (docs/protocol.md section 1b): ACTION=EXIT, SIGNAL_ID, REASON, SIGNAL_TIME, EXPIRES, PROTOCOL.</summary>
	public static class VrevExitParser
	{
		public static readonly string[] RequiredKeys = { "ACTION", "SIGNAL_ID", "SIGNAL_TIME", "EXPIRES", "PROTOCOL" };

		/// <summary>Parses an exit file's text. Never throws; malformed input gives Error "file:line: message".</summary>
		public static VrevExitParseResult Parse(string fileName, string text)
		{
			VrevExitParseResult result = new VrevExitParseResult();
			string file = fileName ?? "(exit)";
			string error;
			VrevKeyValues kv = VrevKeyValues.Read(file, text, out error);
			if (kv == null)
			{
				result.Error = error;
				return result;
			}
			int protocol;
			if (!kv.TryProtocol(file, out protocol, out error))
			{
				result.Error = error;
				return result;
			}
			foreach (string key in RequiredKeys)
				if (!kv.Values.ContainsKey(key))
					return Fail(result, file, kv.LastLine, "missing required key " + key);
			if (protocol < 2)
				return Fail(result, file, kv.LineOf["PROTOCOL"], "exit files are protocol 2, found PROTOCOL=" + kv.Get("PROTOCOL"));
			VrevExitFile x = new VrevExitFile();
			x.SourceFile = fileName;
			x.Protocol = protocol;
			string v = kv.Get("ACTION");
			if (v != "EXIT")
				return Fail(result, file, kv.LineOf["ACTION"], "ACTION of an exit file must be EXIT, found '" + VrevKeyValues.Shorten(v) + "'");
			v = kv.Get("SIGNAL_ID");
			if (v.Length == 0 || v.Length > 100 || VrevSignalParser.HasWhitespaceOrControl(v) || v.IndexOfAny(new[] { '/', '\\', ':' }) >= 0)
				return Fail(result, file, kv.LineOf["SIGNAL_ID"], "SIGNAL_ID '" + VrevKeyValues.Shorten(v) + "' is empty, too long or has spaces or path characters");
			x.Id = v;
			x.Reason = kv.Get("REASON") ?? "";
			DateTime t;
			if (!VrevTime.TryParseUtc(kv.Get("SIGNAL_TIME"), out t))
				return Fail(result, file, kv.LineOf["SIGNAL_TIME"], "SIGNAL_TIME '" + VrevKeyValues.Shorten(kv.Get("SIGNAL_TIME")) + "' is not an RFC 3339 UTC time");
			x.SignalTimeUtc = t;
			if (!VrevTime.TryParseUtc(kv.Get("EXPIRES"), out t))
				return Fail(result, file, kv.LineOf["EXPIRES"], "EXPIRES '" + VrevKeyValues.Shorten(kv.Get("EXPIRES")) + "' is not an RFC 3339 UTC time");
			x.ExpiresUtc = t;
			if (x.ExpiresUtc < x.SignalTimeUtc)
				return Fail(result, file, kv.LineOf["EXPIRES"], "EXPIRES is before SIGNAL_TIME");
			result.Exit = x;
			return result;
		}

		private static VrevExitParseResult Fail(VrevExitParseResult r, string file, int line, string message)
		{
			r.Exit = null;
			r.Error = VrevKeyValues.At(file, line, message);
			return r;
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
		/// <summary>Outcome of an exit file that was executed (key: VrevExitFile.Key).</summary>
		public const string ExitAccepted = "exit_accepted";
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

	/// <summary>
	/// A session window in ET wall-clock time: start inclusive, end exclusive. A window whose end
	/// is before its start wraps past midnight (docs/protocol.md section 1c).
	/// </summary>
	public struct VrevWindow
	{
		public VrevWindow(TimeSpan start, TimeSpan end)
		{
			Start = start;
			End = end;
		}

		public TimeSpan Start;
		public TimeSpan End;

		/// <summary>End before start: the window runs from Start to midnight and on to End.</summary>
		public bool Wraps { get { return End < Start; } }

		public bool Contains(TimeSpan timeOfDay)
		{
			if (Wraps)
				return timeOfDay >= Start || timeOfDay < End;
			return Start <= timeOfDay && timeOfDay < End;
		}

		public override string ToString()
		{
			return VrevFormat.HourMinute(Start) + "-" + VrevFormat.HourMinute(End) + (Wraps ? " (across midnight)" : "");
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
			if (e == s)
			{
				error = "end " + end + " is the same as start " + start + " (an end before the start wraps past midnight)";
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
			DateTime day = SessionDay(utc, eastern);
			if (day.DayOfWeek == DayOfWeek.Saturday)
				day = day.AddDays(2);
			else if (day.DayOfWeek == DayOfWeek.Sunday)
				day = day.AddDays(1);
			return day;
		}

		/// <summary>ET date of the instant, plus one day at or after 18:00, without the weekend roll (Friday 18:00 on is Saturday's).</summary>
		public static DateTime SessionDay(DateTime utc, TimeZoneInfo eastern)
		{
			DateTime et = ToEastern(utc, eastern);
			DateTime day = et.Date;
			if (et.TimeOfDay >= TradingDayStart)
				day = day.AddDays(1);
			return day;
		}

		private static bool Weekday(DateTime day)
		{
			return day.DayOfWeek != DayOfWeek.Saturday && day.DayOfWeek != DayOfWeek.Sunday;
		}

		/// <summary>
		/// A window that does not wrap contains the instant on its ET calendar day, Monday-Friday
		/// (DESIGN section 10a). A window across midnight contains it when its session day
		/// (SessionDay) is Monday-Friday: Sunday 18:00 to Monday 02:00 is Monday's session, Friday
		/// 18:00 on is Saturday's and never traded (docs/protocol.md section 1c).
		/// </summary>
		public static bool InWindow(DateTime utc, TimeZoneInfo eastern, IList<VrevWindow> windows)
		{
			DateTime et = ToEastern(utc, eastern);
			bool calendarWeekday = Weekday(et.Date);
			bool sessionWeekday = Weekday(SessionDay(utc, eastern));
			foreach (VrevWindow w in windows)
				if (w.Contains(et.TimeOfDay) && (w.Wraps ? sessionWeekday : calendarWeekday))
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
			MaxQuantity = VrevLimits.DefaultMaxQuantity;
			MaxStopPoints = VrevLimits.DefaultMaxStopPoints;
			MaxTargetPoints = VrevLimits.DefaultMaxTargetPoints;
			MaxSignalLifeSeconds = VrevLimits.DefaultMaxSignalLifeSeconds;
			MaxHoldMinutes = VrevLimits.DefaultMaxHoldMinutes;
		}

		public bool EnableBuy;
		public bool EnableSell;
		public int MaxSignalsPerDay;
		/// <summary>Limits of what a file may ask for (VrevLimits); beyond them it is refused, never clamped.</summary>
		public int MaxQuantity;
		public double MaxStopPoints;
		public double MaxTargetPoints;
		public int MaxSignalLifeSeconds;
		public int MaxHoldMinutes;
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

		public string DescribeLimits()
		{
			return "max quantity " + MaxQuantity.ToString(CultureInfo.InvariantCulture)
				+ ", max stop " + VrevFormat.Price(MaxStopPoints) + " points, max target " + VrevFormat.Price(MaxTargetPoints)
				+ " points, max signal life " + MaxSignalLifeSeconds.ToString(CultureInfo.InvariantCulture)
				+ " s, max hold " + MaxHoldMinutes.ToString(CultureInfo.InvariantCulture) + " min (a file beyond them is refused, never clamped)";
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

		private static string Seconds(TimeSpan t)
		{
			return ((long)Math.Round(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
		}

		/// <summary>
		/// What vrev could have written (issue 24): null when the file is within every limit, else
		/// the refusal. Compared with a small tolerance so a limit equal to the distance passes.
		/// </summary>
		public static VrevDecision CheckLimits(VrevRules r, VrevSignal s)
		{
			const double eps = 1e-9;
			if (s.Quantity > r.MaxQuantity)
				return VrevDecision.Make(VrevDecisionKind.Reject, "max_quantity", "QUANTITY " + s.Quantity.ToString(CultureInfo.InvariantCulture) + " is above Max quantity "
					+ r.MaxQuantity.ToString(CultureInfo.InvariantCulture) + " (never capped: a smaller trade is not the trade vrev tested)");
			double stop = Math.Abs(s.EntryPrice - s.StopLoss);
			if (stop > r.MaxStopPoints + eps)
				return VrevDecision.Make(VrevDecisionKind.Reject, "max_stop", "STOP_LOSS is " + VrevFormat.Price(stop) + " points from ENTRY_PRICE, more than Max stop (points) " + VrevFormat.Price(r.MaxStopPoints));
			double target = Math.Abs(s.TakeProfit - s.EntryPrice);
			if (target > r.MaxTargetPoints + eps)
				return VrevDecision.Make(VrevDecisionKind.Reject, "max_target", "TAKE_PROFIT is " + VrevFormat.Price(target) + " points from ENTRY_PRICE, more than Max target (points) " + VrevFormat.Price(r.MaxTargetPoints));
			TimeSpan life = s.ExpiresUtc - s.SignalTimeUtc;
			if (life > TimeSpan.FromSeconds(r.MaxSignalLifeSeconds))
				return VrevDecision.Make(VrevDecisionKind.Reject, "max_signal_life", "EXPIRES is " + Seconds(life) + " s after SIGNAL_TIME, more than Max signal life (s) " + r.MaxSignalLifeSeconds.ToString(CultureInfo.InvariantCulture));
			if (s.MaxHoldMinutes > r.MaxHoldMinutes)
				return VrevDecision.Make(VrevDecisionKind.Reject, "max_hold", "MAX_HOLD_MINUTES " + s.MaxHoldMinutes.ToString(CultureInfo.InvariantCulture) + " is above Max hold (minutes) " + r.MaxHoldMinutes.ToString(CultureInfo.InvariantCulture));
			return null;
		}

		/// <summary>
		/// Order: duplicate, limits (a file beyond them can never be executed), not yet due (data
		/// time before SIGNAL_TIME: wait, e.g. files prepared for Playback), stale, side switch,
		/// instrument, window, daily cap, position, price.
		/// </summary>
		public static VrevDecision Decide(VrevRules r, VrevSignal s, DateTime dataTimeUtc, VrevProcessedStore store, bool flat, double lastPrice)
		{
			if (store != null && store.Contains(s.Id))
				return VrevDecision.Make(VrevDecisionKind.Duplicate, "duplicate", "already processed (" + store.OutcomeOf(s.Id) + ")");
			VrevDecision limit = CheckLimits(r, s);
			if (limit != null)
				return limit;
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

		/// <summary>
		/// An exit file (docs/protocol.md section 1b). Order: duplicate (processed before, also
		/// before a restart), signal life, not yet due (wait), stale (data time after EXPIRES), not
		/// the trade held (ignored), entry not filled yet (wait until it fills or the file expires).
		/// heldId = SIGNAL_ID of the vrev trade held or entering (null when flat); open = its entry has filled.
		/// </summary>
		public static VrevDecision DecideExit(VrevRules r, VrevExitFile x, DateTime dataTimeUtc, VrevProcessedStore store, string heldId, bool open)
		{
			string key = VrevExitFile.Key(x.Id);
			if (store != null && store.Contains(key))
				return VrevDecision.Make(VrevDecisionKind.Duplicate, "duplicate", "already processed (" + store.OutcomeOf(key) + ")");
			TimeSpan life = x.ExpiresUtc - x.SignalTimeUtc;
			if (life > TimeSpan.FromSeconds(r.MaxSignalLifeSeconds))
				return VrevDecision.Make(VrevDecisionKind.Reject, "max_signal_life", "EXPIRES is " + Seconds(life) + " s after SIGNAL_TIME, more than Max signal life (s) " + r.MaxSignalLifeSeconds.ToString(CultureInfo.InvariantCulture));
			if (dataTimeUtc < x.SignalTimeUtc)
				return VrevDecision.Make(VrevDecisionKind.Wait, "not_yet", "data time " + VrevFormat.Utc(dataTimeUtc) + " is before SIGNAL_TIME");
			if (dataTimeUtc > x.ExpiresUtc)
				return VrevDecision.Make(VrevDecisionKind.Reject, "stale", "data time " + VrevFormat.Utc(dataTimeUtc) + " is after EXPIRES " + VrevFormat.Utc(x.ExpiresUtc));
			if (heldId != x.Id)
				return VrevDecision.Make(VrevDecisionKind.Reject, "not_held", heldId == null ? "no vrev trade is open" : "the open vrev trade is " + heldId);
			if (!open)
				return VrevDecision.Make(VrevDecisionKind.Wait, "not_filled", "the entry has not filled yet");
			return VrevDecision.Make(VrevDecisionKind.Execute, "ok", "");
		}
	}

	public enum VrevExitKind
	{
		Stop,
		Target,
		MaxHold,
		Other,
		Breakeven,
		Trail,
		ScriptExit,
		FlatBy
	}

	public static class VrevExits
	{
		/// <summary>NinjaTrader's order names of SetStopLoss / SetProfitTarget exits.</summary>
		public const string StopLossName = "Stop loss";
		public const string ProfitTargetName = "Profit target";
		public const string MaxHoldSignalName = "vrev max hold";
		public const string FlatBySignalName = "vrev flat by";
		public const string ScriptExitSignalName = "vrev script exit";

		/// <summary>Exit kind by order name. A "Stop loss" fill is then named after the rule that last moved the stop.</summary>
		public static VrevExitKind Classify(string orderName)
		{
			if (orderName == StopLossName)
				return VrevExitKind.Stop;
			if (orderName == ProfitTargetName)
				return VrevExitKind.Target;
			if (orderName == MaxHoldSignalName)
				return VrevExitKind.MaxHold;
			if (orderName == FlatBySignalName)
				return VrevExitKind.FlatBy;
			if (orderName == ScriptExitSignalName)
				return VrevExitKind.ScriptExit;
			return VrevExitKind.Other;
		}

		/// <summary>The trade log's exit_reason (the names of vrev's trades.csv; a gap is not told apart: stop/breakeven/trail).</summary>
		public static string Label(VrevExitKind kind)
		{
			if (kind == VrevExitKind.Stop) return "stop";
			if (kind == VrevExitKind.Target) return "target";
			if (kind == VrevExitKind.MaxHold) return "max_hold";
			if (kind == VrevExitKind.Breakeven) return "breakeven";
			if (kind == VrevExitKind.Trail) return "trail";
			if (kind == VrevExitKind.ScriptExit) return "script_exit";
			if (kind == VrevExitKind.FlatBy) return "flat_by";
			return "other";
		}

		/// <summary>Max hold deadline: entry fill time + MAX_HOLD_MINUTES (exit when data time &gt;= deadline).</summary>
		public static DateTime MaxHoldDeadline(DateTime entryUtc, int maxHoldMinutes)
		{
			return entryUtc.AddMinutes(maxHoldMinutes);
		}
	}

	/// <summary>
	/// Breakeven and trail at a bar's close (docs/protocol.md section 1a, the shadow book's rules):
	/// breakeven first (close at least BREAKEVEN_AT_POINTS beyond the entry fill: stop to the entry
	/// fill), then trail (best close since entry, this close included, TRAIL_POINTS behind); each
	/// moves the stop only when strictly better for the trade.
	/// </summary>
	public static class VrevExitPlan
	{
		/// <summary>Returns true when the stop moved; stop, rule and bestClose are updated in place.</summary>
		public static bool OnBarClose(VrevSide side, double entryFill, double? breakevenAtPoints, double? trailPoints, double close,
			ref double? bestClose, ref double stop, ref VrevExitKind rule)
		{
			bool buy = side == VrevSide.Buy;
			bool moved = false;
			if (breakevenAtPoints.HasValue)
			{
				bool reached = buy ? close >= entryFill + breakevenAtPoints.Value : close <= entryFill - breakevenAtPoints.Value;
				if (reached && (buy ? entryFill > stop : entryFill < stop))
				{
					stop = entryFill;
					rule = VrevExitKind.Breakeven;
					moved = true;
				}
			}
			if (trailPoints.HasValue)
			{
				if (!bestClose.HasValue || (buy ? close > bestClose.Value : close < bestClose.Value))
					bestClose = close;
				double candidate = buy ? bestClose.Value - trailPoints.Value : bestClose.Value + trailPoints.Value;
				if (buy ? candidate > stop : candidate < stop)
				{
					stop = candidate;
					rule = VrevExitKind.Trail;
					moved = true;
				}
			}
			return moved;
		}

		/// <summary>" breakeven at +6.50, trail 3.00, flat by 2025-02-13T20:55:00Z" (empty without a plan), for the log.</summary>
		public static string Describe(VrevSignal s, DateTime? flatByUtc)
		{
			StringBuilder sb = new StringBuilder();
			if (s.BreakevenAtPoints.HasValue)
				sb.Append(", breakeven at +" + VrevFormat.Price(s.BreakevenAtPoints.Value));
			if (s.TrailPoints.HasValue)
				sb.Append(", trail " + VrevFormat.Price(s.TrailPoints.Value));
			if (flatByUtc.HasValue)
				sb.Append(", flat by " + VrevFormat.Utc(flatByUtc.Value));
			return sb.ToString();
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

	/// <summary>Fills and exit plan of one vrev trade (partial fills averaged). Not thread-safe: the caller locks.</summary>
	public sealed class VrevTradeTracker
	{
		private double entryValue;
		private double exitValue;
		private VrevExitKind lastExitKind = VrevExitKind.Other;
		private double? bestClose;

		public VrevTradeTracker(VrevSignal signal, string signalName, int quantity, double pointValue)
		{
			Signal = signal;
			SignalName = signalName;
			OrderedQuantity = quantity;
			PointValue = pointValue;
			Stop = signal.StopLoss;
			StopRule = VrevExitKind.Stop;
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
		/// <summary>A market exit (max hold, flat-by, script exit) was submitted: no other is, and the stop no longer moves.</summary>
		public bool ExitRequested { get; set; }
		/// <summary>The stop price in force (STOP_LOSS until breakeven or trail move it).</summary>
		public double Stop { get; private set; }
		/// <summary>The rule that last moved the stop: Stop (never moved), Breakeven or Trail. A stop fill is logged with it.</summary>
		public VrevExitKind StopRule { get; private set; }
		/// <summary>FLAT_BY_ET in UTC; null = no flat-by.</summary>
		public DateTime? FlatByUtc { get; set; }

		/// <summary>Average entry fill price (0 before the first fill).</summary>
		public double EntryFillPrice
		{
			get { return EntryQuantity > 0 ? entryValue / EntryQuantity : 0; }
		}

		public DateTime? Deadline
		{
			get { return EntryTimeUtc.HasValue ? VrevExits.MaxHoldDeadline(EntryTimeUtc.Value, Signal.MaxHoldMinutes) : (DateTime?)null; }
		}

		public bool IsMaxHoldDue(DateTime dataTimeUtc)
		{
			return !ExitRequested && OpenQuantity > 0 && Deadline.HasValue && dataTimeUtc >= Deadline.Value;
		}

		/// <summary>Still open at the close of a bar at or after FLAT_BY_ET (the caller passes the bar's close time).</summary>
		public bool IsFlatByDue(DateTime barCloseUtc)
		{
			return !ExitRequested && OpenQuantity > 0 && FlatByUtc.HasValue && barCloseUtc >= FlatByUtc.Value;
		}

		/// <summary>The exit plan at a bar's close, from the entry bar on: true when the stop moved (see VrevExitPlan).</summary>
		public bool OnBarClose(double close)
		{
			if (OpenQuantity <= 0)
				return false;
			double stop = Stop;
			VrevExitKind rule = StopRule;
			bool moved = VrevExitPlan.OnBarClose(Side, EntryFillPrice, Signal.BreakevenAtPoints, Signal.TrailPoints, close, ref bestClose, ref stop, ref rule);
			Stop = stop;
			StopRule = rule;
			return moved;
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
