// TEST-ONLY stub of the NinjaTrader 8 API surface used by nt8/Indicators/VrevPublisher.cs and
// nt8/Strategies/VrevAutoTrader.cs. NEVER copy this file to NinjaTrader.
//
// Signatures of everything the NinjaScript files call or override are copied from the
// NinjaScript Help Guide (ninjatrader.com/support/helpGuides/nt8): OnStateChange, OnBarUpdate,
// OnMarketData(MarketDataEventArgs), OnExecutionUpdate(Execution, string, double, int,
// MarketPosition, string, DateTime), OnOrderUpdate(Order, double, double, int, int, double,
// OrderState, DateTime, ErrorCode, string), SetStopLoss(string, CalculationMode, double, bool),
// SetProfitTarget(string, CalculationMode, double), EnterLong/EnterShort(int, string),
// ExitLong/ExitShort(string, string), TriggerCustomEvent(Action<object>, object), Print(object).
//
// Members whose names start with "TestHook" exist only here; CI fails if they appear in
// nt8/Indicators or nt8/Strategies. This file must be compiled in the same mcs call as the
// NinjaScript files (the generated partial classes cannot span assemblies).

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;

namespace NinjaTrader.Cbi
{
	public enum MarketPosition { Flat, Long, Short }

	public enum OrderAction { Buy, BuyToCover, Sell, SellShort }

	public enum OrderState
	{
		Accepted, ChangePending, ChangeSubmitted, CancelPending, CancelSubmitted, Cancelled, Filled,
		Initialized, PartFilled, Rejected, Submitted, TriggerPending, Unknown, Working
	}

	public enum ErrorCode { NoError, InvalidInstrument, OrderRejected, UnableToCancelOrder, UnableToChangeOrder, UnableToSubmitOrder, UserAbort, LoginFailed, Panic, ServerConnectionIsBroken }

	public enum TimeInForce { Day, Gtc }

	public class Account
	{
		public string Name { get; private set; }

		public static Account TestHookCreate(string name) { return new Account { Name = name }; }
	}

	public class MasterInstrument
	{
		public string Name { get; private set; }
		public double PointValue { get; private set; }
		public double TickSize { get; private set; }

		public double RoundToTickSize(double price) { return Math.Round(price / TickSize) * TickSize; }

		public static MasterInstrument TestHookCreate(string name, double tickSize, double pointValue)
		{
			return new MasterInstrument { Name = name, TickSize = tickSize, PointValue = pointValue };
		}
	}

	public class Instrument
	{
		public string FullName { get; private set; }
		public MasterInstrument MasterInstrument { get; private set; }

		public static Instrument TestHookCreate(string fullName, MasterInstrument master)
		{
			return new Instrument { FullName = fullName, MasterInstrument = master };
		}
	}

	public class Order
	{
		public string Name { get; private set; }
		public string FromEntrySignal { get; private set; }
		public OrderAction OrderAction { get; private set; }
		public OrderState OrderState { get; private set; }
		public int Quantity { get; private set; }
		public int Filled { get; private set; }
		public double AverageFillPrice { get; private set; }

		public static Order TestHookCreate(string name, string fromEntrySignal, OrderAction action, OrderState state, int quantity, int filled, double averageFillPrice)
		{
			return new Order { Name = name, FromEntrySignal = fromEntrySignal, OrderAction = action, OrderState = state, Quantity = quantity, Filled = filled, AverageFillPrice = averageFillPrice };
		}
	}

	public class Execution
	{
		public Order Order { get; private set; }
		public double Price { get; private set; }
		public int Quantity { get; private set; }
		public DateTime Time { get; private set; }
		public MarketPosition MarketPosition { get; private set; }
		public string ExecutionId { get; private set; }

		public static Execution TestHookCreate(Order order, double price, int quantity, DateTime time, MarketPosition mp, string id)
		{
			return new Execution { Order = order, Price = price, Quantity = quantity, Time = time, MarketPosition = mp, ExecutionId = id };
		}
	}

	public class Position
	{
		public MarketPosition MarketPosition { get; private set; }
		public int Quantity { get; private set; }
		public double AveragePrice { get; private set; }

		public void TestHookSet(MarketPosition mp, int quantity, double averagePrice)
		{
			MarketPosition = mp;
			Quantity = quantity;
			AveragePrice = averagePrice;
		}
	}
}

namespace NinjaTrader.Data
{
	public enum BarsPeriodType
	{
		Tick = 0, Volume = 1, Range = 2, Second = 3, Minute = 4, Day = 5, Week = 6, Month = 7, Year = 8,
		HeikenAshi = 14, Kagi = 10, LineBreak = 11, PointAndFigure = 12, Renko = 13
	}

	public class BarsPeriod
	{
		public BarsPeriodType BarsPeriodType { get; set; }
		public int Value { get; set; }
	}

	public enum MarketDataType
	{
		Ask, Bid, DailyHigh, DailyLow, DailyVolume, Last, LastClose, Opening, OpenInterest, Settlement, Unknown
	}

	public class MarketDataEventArgs : EventArgs
	{
		public MarketDataType MarketDataType { get; private set; }
		public double Price { get; private set; }
		public long Volume { get; private set; }
		public DateTime Time { get; private set; }
		public double Ask { get; private set; }
		public double Bid { get; private set; }

		public static MarketDataEventArgs TestHookCreate(MarketDataType type, double price, long volume, DateTime time)
		{
			return new MarketDataEventArgs { MarketDataType = type, Price = price, Volume = volume, Time = time };
		}
	}
}

namespace NinjaTrader.NinjaScript
{
	using NinjaTrader.Cbi;
	using NinjaTrader.Data;

	public enum State
	{
		SetDefaults, Configure, Active, DataLoaded, Historical, Transition, Realtime, Terminated, Finalized
	}

	public enum Calculate { OnBarClose, OnEachTick, OnPriceChange }

	public enum CalculationMode { Currency, Percent, Pips, Price, Ticks }

	public enum EntryHandling { AllEntries, UniqueEntries }

	public enum MaximumBarsLookBack { TwoHundredFiftySix, Infinite }

	public enum OrderFillResolution { Standard, High }

	public enum StartBehavior { AdoptAccountPosition, ImmediatelySubmit, ImmediatelySubmitSynchronizeAccount, WaitUntilFlat, WaitUntilFlatSynchronizeAccount }

	public enum RealtimeErrorHandling { IgnoreAllErrors, StopCancelClose, StopCancelCloseIgnoreRejects }

	public enum StopTargetHandling { ByStrategyPosition, PerEntryExecution }

	public interface ISeries<T>
	{
		T this[int barsAgo] { get; }
		int Count { get; }
		T GetValueAt(int barIndex);
		bool IsValidDataPoint(int barsAgo);
	}

	public class TestHookSeries<T> : ISeries<T>
	{
		private readonly List<T> values = new List<T>();

		public T this[int barsAgo]
		{
			get
			{
				if (barsAgo < 0 || barsAgo >= values.Count)
					throw new ArgumentOutOfRangeException("barsAgo", "stub: barsAgo " + barsAgo + " with " + values.Count + " bars");
				return values[values.Count - 1 - barsAgo];
			}
		}

		public int Count { get { return values.Count; } }
		public T GetValueAt(int barIndex) { return values[barIndex]; }
		public bool IsValidDataPoint(int barsAgo) { return barsAgo >= 0 && barsAgo < values.Count; }
		public void TestHookAdd(T value) { values.Add(value); }
	}

	/// <summary>Recorded NinjaScript order calls (stub only).</summary>
	public class TestHookOrderCall
	{
		public string Method;
		public string SignalName;
		public string FromEntrySignal;
		public CalculationMode Mode;
		public double Value;
		public int Quantity;
		public bool IsSimulatedStop;

		public override string ToString()
		{
			return Method + "(" + SignalName + "," + FromEntrySignal + "," + Mode + "," + Value.ToString(CultureInfo.InvariantCulture) + "," + Quantity + ")";
		}
	}

	public abstract class NinjaScriptBase
	{
		private readonly TestHookSeries<DateTime> time = new TestHookSeries<DateTime>();
		private readonly TestHookSeries<double> open = new TestHookSeries<double>();
		private readonly TestHookSeries<double> high = new TestHookSeries<double>();
		private readonly TestHookSeries<double> low = new TestHookSeries<double>();
		private readonly TestHookSeries<double> close = new TestHookSeries<double>();
		private readonly TestHookSeries<double> volume = new TestHookSeries<double>();
		private readonly object eventLock = new object();

		protected NinjaScriptBase()
		{
			BarsPeriod = new BarsPeriod { BarsPeriodType = BarsPeriodType.Minute, Value = 1 };
			CurrentBar = -1;
		}

		public State State { get; private set; }
		public string Name { get; set; }
		public string Description { get; set; }
		public Calculate Calculate { get; set; }
		public bool IsSuspendedWhileInactive { get; set; }
		public double TickSize { get; private set; }
		public Instrument Instrument { get; private set; }
		public BarsPeriod BarsPeriod { get; private set; }
		public int BarsInProgress { get; private set; }
		public int CurrentBar { get; private set; }
		public ISeries<DateTime> Time { get { return time; } }
		public ISeries<double> Open { get { return open; } }
		public ISeries<double> High { get { return high; } }
		public ISeries<double> Low { get { return low; } }
		public ISeries<double> Close { get { return close; } }
		public ISeries<double> Volume { get { return volume; } }
		public ISeries<double> Input { get { return close; } }

		protected virtual void OnStateChange() { }
		protected virtual void OnBarUpdate() { }
		protected virtual void OnMarketData(MarketDataEventArgs marketDataUpdate) { }

		public void Print(object value)
		{
			lock (TestHookOutput)
				TestHookOutput.Add(value == null ? "" : value.ToString());
			if (TestHookEcho)
				Console.WriteLine("    [NT output] " + value);
		}

		public void TriggerCustomEvent(Action<object> customEvent, object state)
		{
			// NinjaTrader runs the callback with the script's bars synchronized; the stub runs it
			// synchronously under a lock that also guards the other TestHook event entry points.
			lock (eventLock)
				customEvent(state);
		}

		public bool EqualsInput(ISeries<double> input) { return true; }

		// ---- stub-only test hooks ----
		public readonly List<string> TestHookOutput = new List<string>();
		public bool TestHookEcho;

		/// <summary>Copy of the Print() output; Print may run on the scripts' own threads.</summary>
		public List<string> TestHookOutputSnapshot()
		{
			lock (TestHookOutput)
				return new List<string>(TestHookOutput);
		}

		public void TestHookSetState(State state)
		{
			lock (eventLock)
			{
				State = state;
				OnStateChange();
			}
		}

		public void TestHookSetInstrument(string fullName, string masterName, double tickSize, double pointValue)
		{
			Instrument = Instrument.TestHookCreate(fullName, MasterInstrument.TestHookCreate(masterName, tickSize, pointValue));
			TickSize = tickSize;
		}

		public void TestHookSetBarsPeriod(BarsPeriodType type, int value)
		{
			BarsPeriod = new BarsPeriod { BarsPeriodType = type, Value = value };
		}

		/// <summary>Appends a closed bar (time in the chart's zone, like NinjaTrader) and calls OnBarUpdate.</summary>
		public void TestHookBar(DateTime localTime, double o, double h, double l, double c, double v)
		{
			lock (eventLock)
			{
				time.TestHookAdd(localTime);
				open.TestHookAdd(o);
				high.TestHookAdd(h);
				low.TestHookAdd(l);
				close.TestHookAdd(c);
				volume.TestHookAdd(v);
				CurrentBar = time.Count - 1;
				BarsInProgress = 0;
				OnBarUpdate();
			}
		}

		public void TestHookMarketData(MarketDataType type, double price, long vol, DateTime localTime)
		{
			lock (eventLock)
				OnMarketData(MarketDataEventArgs.TestHookCreate(type, price, vol, localTime));
		}

		protected object TestHookEventLock { get { return eventLock; } }
	}

	public abstract class IndicatorBase : NinjaScriptBase
	{
		public bool IsOverlay { get; set; }
		public bool DisplayInDataBox { get; set; }
		public bool DrawOnPricePanel { get; set; }
		public bool PaintPriceMarkers { get; set; }

		protected T CacheIndicator<T>(T indicator, ISeries<double> input, ref T[] cache) where T : IndicatorBase
		{
			T[] grown = new T[cache == null ? 1 : cache.Length + 1];
			if (cache != null)
				Array.Copy(cache, grown, cache.Length);
			grown[grown.Length - 1] = indicator;
			cache = grown;
			return indicator;
		}
	}

	public abstract class StrategyBase : NinjaScriptBase
	{
		protected StrategyBase()
		{
			Position = new Position();
			Account = Account.TestHookCreate("Sim101");
		}

		public int EntriesPerDirection { get; set; }
		public EntryHandling EntryHandling { get; set; }
		public bool IsExitOnSessionCloseStrategy { get; set; }
		public int ExitOnSessionCloseSeconds { get; set; }
		public bool IsFillLimitOnTouch { get; set; }
		public MaximumBarsLookBack MaximumBarsLookBack { get; set; }
		public OrderFillResolution OrderFillResolution { get; set; }
		public int Slippage { get; set; }
		public StartBehavior StartBehavior { get; set; }
		public TimeInForce TimeInForce { get; set; }
		public bool TraceOrders { get; set; }
		public RealtimeErrorHandling RealtimeErrorHandling { get; set; }
		public StopTargetHandling StopTargetHandling { get; set; }
		public int BarsRequiredToTrade { get; set; }
		public bool IsInstantiatedOnEachOptimizationIteration { get; set; }
		public bool IsUnmanaged { get; set; }
		public Position Position { get; private set; }
		public Account Account { get; private set; }

		protected virtual void OnExecutionUpdate(Execution execution, string executionId, double price, int quantity, MarketPosition marketPosition, string orderId, DateTime time) { }
		protected virtual void OnOrderUpdate(Order order, double limitPrice, double stopPrice, int quantity, int filled, double averageFillPrice, OrderState orderState, DateTime time, ErrorCode error, string comment) { }
		protected virtual void OnPositionUpdate(Position position, double averagePrice, int quantity, MarketPosition marketPosition) { }

		public void SetStopLoss(CalculationMode mode, double value) { Record("SetStopLoss", "", "", mode, value, 0, false); }
		public void SetStopLoss(string fromEntrySignal, CalculationMode mode, double value, bool isSimulatedStop) { Record("SetStopLoss", "", fromEntrySignal, mode, value, 0, isSimulatedStop); }
		public void SetProfitTarget(CalculationMode mode, double value) { Record("SetProfitTarget", "", "", mode, value, 0, false); }
		public void SetProfitTarget(CalculationMode mode, double value, bool isMIT) { Record("SetProfitTarget", "", "", mode, value, 0, false); }
		public void SetProfitTarget(string fromEntrySignal, CalculationMode mode, double value) { Record("SetProfitTarget", "", fromEntrySignal, mode, value, 0, false); }
		public void SetProfitTarget(string fromEntrySignal, CalculationMode mode, double value, bool isMIT) { Record("SetProfitTarget", "", fromEntrySignal, mode, value, 0, false); }

		public Order EnterLong() { return Record("EnterLong", "", "", CalculationMode.Price, 0, 1, false); }
		public Order EnterLong(string signalName) { return Record("EnterLong", signalName, "", CalculationMode.Price, 0, 1, false); }
		public Order EnterLong(int quantity) { return Record("EnterLong", "", "", CalculationMode.Price, 0, quantity, false); }
		public Order EnterLong(int quantity, string signalName) { return Record("EnterLong", signalName, "", CalculationMode.Price, 0, quantity, false); }
		public Order EnterShort() { return Record("EnterShort", "", "", CalculationMode.Price, 0, 1, false); }
		public Order EnterShort(string signalName) { return Record("EnterShort", signalName, "", CalculationMode.Price, 0, 1, false); }
		public Order EnterShort(int quantity) { return Record("EnterShort", "", "", CalculationMode.Price, 0, quantity, false); }
		public Order EnterShort(int quantity, string signalName) { return Record("EnterShort", signalName, "", CalculationMode.Price, 0, quantity, false); }

		public Order ExitLong() { return Record("ExitLong", "", "", CalculationMode.Price, 0, 0, false); }
		public Order ExitLong(int quantity) { return Record("ExitLong", "", "", CalculationMode.Price, 0, quantity, false); }
		public Order ExitLong(string fromEntrySignal) { return Record("ExitLong", "", fromEntrySignal, CalculationMode.Price, 0, 0, false); }
		public Order ExitLong(string signalName, string fromEntrySignal) { return Record("ExitLong", signalName, fromEntrySignal, CalculationMode.Price, 0, 0, false); }
		public Order ExitLong(int quantity, string signalName, string fromEntrySignal) { return Record("ExitLong", signalName, fromEntrySignal, CalculationMode.Price, 0, quantity, false); }
		public Order ExitShort() { return Record("ExitShort", "", "", CalculationMode.Price, 0, 0, false); }
		public Order ExitShort(int quantity) { return Record("ExitShort", "", "", CalculationMode.Price, 0, quantity, false); }
		public Order ExitShort(string fromEntrySignal) { return Record("ExitShort", "", fromEntrySignal, CalculationMode.Price, 0, 0, false); }
		public Order ExitShort(string signalName, string fromEntrySignal) { return Record("ExitShort", signalName, fromEntrySignal, CalculationMode.Price, 0, 0, false); }
		public Order ExitShort(int quantity, string signalName, string fromEntrySignal) { return Record("ExitShort", signalName, fromEntrySignal, CalculationMode.Price, 0, quantity, false); }

		// ---- stub-only test hooks ----
		public readonly List<TestHookOrderCall> TestHookRecordedCalls = new List<TestHookOrderCall>();

		private Order Record(string method, string signalName, string fromEntry, CalculationMode mode, double value, int quantity, bool simulated)
		{
			lock (TestHookRecordedCalls)
				TestHookRecordedCalls.Add(new TestHookOrderCall { Method = method, SignalName = signalName, FromEntrySignal = fromEntry, Mode = mode, Value = value, Quantity = quantity, IsSimulatedStop = simulated });
			if (sim != null)
				sim.OnOrderCall(method, signalName, fromEntry, mode, value, quantity);
			return Order.TestHookCreate(signalName, fromEntry, method.StartsWith("EnterLong") || method.StartsWith("ExitShort") ? OrderAction.Buy : OrderAction.Sell, OrderState.Submitted, quantity, 0, 0);
		}

		public List<TestHookOrderCall> TestHookCallsSnapshot()
		{
			lock (TestHookRecordedCalls)
				return new List<TestHookOrderCall>(TestHookRecordedCalls);
		}

		/// <summary>Simulates a fill: updates Position, then calls OnExecutionUpdate like NinjaTrader.</summary>
		public void TestHookExecute(string orderName, string fromEntrySignal, bool buy, double price, int quantity, DateTime localTime)
		{
			lock (TestHookEventLock)
			{
				int signed = (Position.MarketPosition == MarketPosition.Long ? Position.Quantity : Position.MarketPosition == MarketPosition.Short ? -Position.Quantity : 0) + (buy ? quantity : -quantity);
				Position.TestHookSet(signed > 0 ? MarketPosition.Long : signed < 0 ? MarketPosition.Short : MarketPosition.Flat, Math.Abs(signed), price);
				Order order = Order.TestHookCreate(orderName, fromEntrySignal, buy ? OrderAction.Buy : OrderAction.Sell, OrderState.Filled, quantity, quantity, price);
				MarketPosition mp = buy ? MarketPosition.Long : MarketPosition.Short;
				Execution e = Execution.TestHookCreate(order, price, quantity, localTime, mp, Guid.NewGuid().ToString("N"));
				OnExecutionUpdate(e, e.ExecutionId, price, quantity, mp, "order", localTime);
			}
		}

		// ---- stub-only fill simulator (DESIGN section 10 / 10a, the shadow book's fill model) ----
		private TestHookFillSimulator sim;

		/// <summary>
		/// From now on, managed orders fill like vrev's shadow book: market entries and exits
		/// submitted between bars fill at the next bar's open (entries + slippage, exits against
		/// us), stamped with that bar's open time (its close minus the bar period); market exits
		/// submitted inside OnBarUpdate fill at that bar's close against us, stamped with its close;
		/// per bar, before OnBarUpdate and starting with the entry bar: open at or through the stop
		/// = open against us; else the bar reaches the stop = stop against us; else the bar trades
		/// through the target by a tick = exactly the target; stop and target fills are stamped with
		/// the bar's close. Feed bars with TestHookSimBar.
		/// </summary>
		public void TestHookEnableFillSimulator(double tickSize, int slippageTicks)
		{
			sim = new TestHookFillSimulator(this, tickSize, slippageTicks * tickSize);
		}

		/// <summary>Fills of the simulator, in order (stub only).</summary>
		public List<string> TestHookSimFills { get { return sim != null ? sim.Fills : new List<string>(); } }

		/// <summary>One closed bar through the fill simulator: fills at the open, stop/target, OnBarUpdate, fills at the close.</summary>
		public void TestHookSimBar(DateTime localCloseTime, double o, double h, double l, double c, double v)
		{
			if (sim == null)
				throw new InvalidOperationException("stub: TestHookEnableFillSimulator first");
			lock (TestHookEventLock)
			{
				int periodSeconds = BarsPeriod.BarsPeriodType == BarsPeriodType.Minute ? 60 * BarsPeriod.Value
					: BarsPeriod.BarsPeriodType == BarsPeriodType.Second ? BarsPeriod.Value : 60;
				sim.BeforeBar(localCloseTime.AddSeconds(-periodSeconds), localCloseTime, o, h, l);
				sim.InBarUpdate = true;
				try
				{
					TestHookBar(localCloseTime, o, h, l, c, v);
				}
				finally
				{
					sim.InBarUpdate = false;
				}
				sim.AfterBarUpdate(localCloseTime, c);
			}
		}

		internal void TestHookSimFill(string orderName, string fromEntrySignal, bool buy, double price, int quantity, DateTime localTime)
		{
			TestHookExecute(orderName, fromEntrySignal, buy, price, quantity, localTime);
		}

		public void TestHookOrderUpdate(string orderName, OrderState state, int filled, string comment)
		{
			lock (TestHookEventLock)
			{
				Order order = Order.TestHookCreate(orderName, "", OrderAction.Buy, state, 1, filled, 0);
				OnOrderUpdate(order, 0, 0, 1, filled, 0, state, DateTime.Now, ErrorCode.NoError, comment);
			}
		}
	}

	/// <summary>
	/// Stub-only fill simulator of the managed order methods (see StrategyBase.TestHookEnableFillSimulator).
	/// Positions are kept per entry signal name, like SetStopLoss/SetProfitTarget(fromEntrySignal, ...).
	/// </summary>
	public sealed class TestHookFillSimulator
	{
		private sealed class Entry { public string Name; public bool Long; public int Quantity; }
		private sealed class Exit { public string Name; public string FromEntry; }
		private sealed class Held { public string Name; public bool Long; public int Quantity; }

		private readonly StrategyBase owner;
		private readonly double tick;
		private readonly double slip;
		private readonly List<Entry> entries = new List<Entry>();
		private readonly List<Exit> exitsAtOpen = new List<Exit>();
		private readonly List<Exit> exitsAtClose = new List<Exit>();
		private readonly List<Held> held = new List<Held>();
		private readonly Dictionary<string, double> stops = new Dictionary<string, double>();
		private readonly Dictionary<string, double> targets = new Dictionary<string, double>();

		internal TestHookFillSimulator(StrategyBase owner, double tickSize, double slippage)
		{
			this.owner = owner;
			tick = tickSize;
			slip = slippage;
			Fills = new List<string>();
		}

		internal bool InBarUpdate;
		public List<string> Fills { get; private set; }

		internal void OnOrderCall(string method, string signalName, string fromEntry, CalculationMode mode, double value, int quantity)
		{
			if (method == "SetStopLoss" || method == "SetProfitTarget")
			{
				if (mode != CalculationMode.Price || string.IsNullOrEmpty(fromEntry))
					throw new NotSupportedException("stub fill simulator: only " + method + "(fromEntrySignal, CalculationMode.Price, ...)");
				(method == "SetStopLoss" ? stops : targets)[fromEntry] = value;
			}
			else if (method == "EnterLong" || method == "EnterShort")
				entries.Add(new Entry { Name = signalName, Long = method == "EnterLong", Quantity = quantity });
			else if (method == "ExitLong" || method == "ExitShort")
				(InBarUpdate ? exitsAtClose : exitsAtOpen).Add(new Exit { Name = signalName, FromEntry = fromEntry });
		}

		private Held Find(string name)
		{
			foreach (Held h in held)
				if (h.Name == name)
					return h;
			return null;
		}

		private void Fill(string orderName, string fromEntry, bool buy, double price, int quantity, DateTime localTime)
		{
			Fills.Add(localTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " " + orderName + (fromEntry.Length > 0 ? " (" + fromEntry + ")" : "")
				+ " " + (buy ? "buy " : "sell ") + quantity + " @ " + price.ToString(CultureInfo.InvariantCulture));
			owner.TestHookSimFill(orderName, fromEntry, buy, price, quantity, localTime);
		}

		private void ExitAll(List<Exit> exits, double basePrice, DateTime localTime)
		{
			List<Exit> now = new List<Exit>(exits);
			exits.Clear();
			foreach (Exit x in now)
			{
				Held h = Find(x.FromEntry);
				if (h == null)
					continue; // nothing held under that entry name: NinjaTrader ignores the exit
				held.Remove(h);
				Fill(x.Name, h.Name, !h.Long, h.Long ? basePrice - slip : basePrice + slip, h.Quantity, localTime);
			}
		}

		internal void BeforeBar(DateTime localOpenTime, DateTime localCloseTime, double open, double high, double low)
		{
			// 1. Market entries submitted since the last bar: at this open, slippage against us.
			List<Entry> now = new List<Entry>(entries);
			entries.Clear();
			foreach (Entry e in now)
			{
				held.Add(new Held { Name = e.Name, Long = e.Long, Quantity = e.Quantity });
				Fill(e.Name, "", e.Long, e.Long ? open + slip : open - slip, e.Quantity, localOpenTime);
			}
			// 2. Market exits submitted between bars (timer, file poll): at this open.
			ExitAll(exitsAtOpen, open, localOpenTime);
			// 3. Stop, then target, of every position (the entry bar included).
			foreach (Held h in new List<Held>(held))
			{
				double stop, target;
				bool hasStop = stops.TryGetValue(h.Name, out stop);
				bool hasTarget = targets.TryGetValue(h.Name, out target);
				double? price = null;
				string name = null;
				if (hasStop && (h.Long ? open <= stop : open >= stop))
				{
					price = h.Long ? open - slip : open + slip;
					name = "Stop loss";
				}
				else if (hasStop && (h.Long ? low <= stop : high >= stop))
				{
					price = h.Long ? stop - slip : stop + slip;
					name = "Stop loss";
				}
				else if (hasTarget && (h.Long ? high >= target + tick : low <= target - tick))
				{
					price = target;
					name = "Profit target";
				}
				if (price.HasValue)
				{
					held.Remove(h);
					Fill(name, h.Name, !h.Long, price.Value, h.Quantity, localCloseTime);
				}
			}
		}

		internal void AfterBarUpdate(DateTime localCloseTime, double close)
		{
			// 4. Market exits submitted inside OnBarUpdate: at this bar's close.
			ExitAll(exitsAtClose, close, localCloseTime);
		}
	}

	public abstract class MarketAnalyzerColumnBase : NinjaScriptBase
	{
	}
}

namespace NinjaTrader.Gui.NinjaScript
{
	public abstract class IndicatorRenderBase : NinjaTrader.NinjaScript.IndicatorBase
	{
	}

	public abstract class StrategyRenderBase : NinjaTrader.NinjaScript.StrategyBase
	{
	}
}

// What NinjaTrader ships as @Indicator.cs / @Strategy.cs / @MarketAnalyzerColumn.cs (the other
// halves of the partial classes the generated code region extends).
namespace NinjaTrader.NinjaScript.Indicators
{
	public partial class Indicator : NinjaTrader.Gui.NinjaScript.IndicatorRenderBase
	{
	}
}

namespace NinjaTrader.NinjaScript.Strategies
{
	public partial class Strategy : NinjaTrader.Gui.NinjaScript.StrategyRenderBase
	{
		protected NinjaTrader.NinjaScript.Indicators.Indicator indicator = null;
	}
}

namespace NinjaTrader.NinjaScript.MarketAnalyzerColumns
{
	public partial class MarketAnalyzerColumn : MarketAnalyzerColumnBase
	{
		protected NinjaTrader.NinjaScript.Indicators.Indicator indicator = null;
	}
}
