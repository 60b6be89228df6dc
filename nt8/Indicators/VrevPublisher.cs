// vrev publisher (protocol 1) for NinjaTrader 8.
//
// Copy this file to  Documents\NinjaTrader 8\bin\Custom\Indicators\  and compile (F5 in the
// NinjaScript Editor). Put the indicator on an ES 1-minute chart; `vrev run` connects to
// ws://127.0.0.1:6789 and receives the chart's bars. Wire format: docs/protocol.md.
//
// Layout of this file:
//   - VrevPublisher: the NinjaScript indicator. It only converts NinjaTrader bars to UTC and
//     hands them to the server; it never touches a socket on NinjaTrader's threads.
//   - namespace NinjaTrader.NinjaScript.Indicators.VrevFeed: pure logic and the WebSocket
//     server (VrevFeedServer), usable without NinjaTrader (the CI tests drive them directly).
//
// Language level: C# 7.2 or lower, .NET Framework 4.8 APIs only (a plain TcpListener with its
// own RFC 6455 handshake; no local functions, no switch patterns). CI enforces both.

#region Using declarations
using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using NinjaTrader.Cbi;
using NinjaTrader.Data;
using NinjaTrader.NinjaScript;
using NinjaTrader.NinjaScript.Indicators.VrevFeed;
#endregion

namespace NinjaTrader.NinjaScript.Indicators
{
	public class VrevPublisher : Indicator
	{
		private VrevFeedServer server;
		private VrevHistoryBuffer historyBuffer;
		private TimeZoneInfo chartZone;
		private DateTime? lastBarUtc;
		private string symbol = "";
		private bool failed;
		private int errorsLogged;

		protected override void OnStateChange()
		{
			try
			{
				if (State == State.SetDefaults)
				{
					Description = "Publishes this chart's bars to vrev over a local WebSocket (vrev feed protocol 1).";
					Name = "VrevPublisher";
					Calculate = Calculate.OnBarClose;
					IsOverlay = true;
					DisplayInDataBox = false;
					DrawOnPricePanel = false;
					PaintPriceMarkers = false;
					IsSuspendedWhileInactive = false;

					Port = 6789;
					BindAddress = "127.0.0.1";
					LookbackValue = 5;
					LookbackUnit = VrevLookbackUnit.Days;
					MaxHistoryBars = 20000;
					HistoryBarCount = 5000;
					SendTicks = false;
					PingIntervalSeconds = 10;
					PongTimeoutSeconds = 30;
					MaxQueuedMessages = 20000;
					ChartTimeZoneId = "";
					Token = "";
					AllowedOrigins = "";
				}
				else if (State == State.DataLoaded)
				{
					chartZone = VrevTime.FindZone(ChartTimeZoneId);
					int periodSeconds = PeriodSeconds(BarsPeriod.BarsPeriodType, BarsPeriod.Value);
					int capacity = VrevLookback.BarCount(LookbackValue, LookbackUnit, periodSeconds, HistoryBarCount, MaxHistoryBars);
					historyBuffer = new VrevHistoryBuffer(capacity);
					symbol = Instrument != null ? Instrument.FullName : "";

					VrevFeedOptions options = new VrevFeedOptions();
					options.BindAddress = BindAddress;
					options.Port = Port;
					options.MaxQueuedMessages = MaxQueuedMessages;
					options.PingIntervalSeconds = PingIntervalSeconds;
					options.PongTimeoutSeconds = PongTimeoutSeconds;
					options.Token = Token ?? "";
					options.AllowedOrigins = AllowedOrigins ?? "";
					options.Instrument = symbol;
					options.BarPeriodSeconds = periodSeconds;
					options.TickSize = TickSize;
					options.PointValue = Instrument != null && Instrument.MasterInstrument != null ? Instrument.MasterInstrument.PointValue : 0.0;
					server = new VrevFeedServer(options, historyBuffer, LogLine);
					LogLine("history holds up to " + capacity.ToString(CultureInfo.InvariantCulture) + " bars; time zone of bar times: " + chartZone.Id);
				}
				else if (State == State.Realtime)
				{
					// History is complete now: start listening. Clients that connected during
					// the historical pass would otherwise miss bars (history is never re-sent live).
					if (server != null && !failed)
						server.Start();
				}
				else if (State == State.Terminated)
				{
					if (server != null)
					{
						server.Dispose();
						server = null;
					}
				}
			}
			catch (Exception ex)
			{
				failed = true;
				LogLine("disabled: " + ex.Message);
			}
		}

		protected override void OnBarUpdate()
		{
			if (BarsInProgress != 0 || failed || server == null)
				return;
			try
			{
				DateTime utc = VrevTime.ToUtc(Time[0], chartZone, lastBarUtc);
				if (lastBarUtc.HasValue && utc <= lastBarUtc.Value)
					return; // duplicate or out of order: never published twice
				lastBarUtc = utc;
				long volume = (long)Math.Round(Volume[0]);
				VrevBar bar = new VrevBar(utc, Open[0], High[0], Low[0], Close[0], volume);
				// Only bars closed in State.Realtime are live; historical bars only fill the buffer.
				server.Publish(bar, State == State.Realtime);
			}
			catch (Exception ex)
			{
				LogError(ex);
			}
		}

		protected override void OnMarketData(MarketDataEventArgs marketDataUpdate)
		{
			if (!SendTicks || failed || server == null || State != State.Realtime)
				return;
			try
			{
				if (marketDataUpdate.MarketDataType != MarketDataType.Last)
					return;
				DateTime utc = VrevTime.ToUtc(marketDataUpdate.Time, chartZone, null);
				server.PublishTick(utc, marketDataUpdate.Price, marketDataUpdate.Volume);
			}
			catch (Exception ex)
			{
				LogError(ex);
			}
		}

		/// <summary>Seconds per bar for time-based bars, 0 for tick/volume/range and other non-time bars.</summary>
		public static int PeriodSeconds(BarsPeriodType type, int value)
		{
			if (value <= 0)
				return 0;
			if (type == BarsPeriodType.Second)
				return value;
			if (type == BarsPeriodType.Minute)
				return value * 60;
			if (type == BarsPeriodType.Day)
				return value * 86400;
			if (type == BarsPeriodType.Week)
				return value * 7 * 86400;
			return 0;
		}

		private void LogError(Exception ex)
		{
			// At most 20 error lines per instance: an error on every bar must not flood the output window.
			if (Interlocked.Increment(ref errorsLogged) <= 20)
				LogLine("error: " + ex.GetType().Name + ": " + ex.Message);
		}

		private void LogLine(string message)
		{
			try
			{
				Print("VrevPublisher " + Port.ToString(CultureInfo.InvariantCulture) + ": " + message);
			}
			catch (Exception)
			{
				// Print can fail while NinjaTrader shuts down; never let logging throw.
			}
		}

		#region Properties
		[Range(1, 65535)]
		[Display(Name = "Port", Description = "TCP port of the WebSocket server (vrev feed.url).", Order = 1, GroupName = "Feed")]
		public int Port { get; set; }

		[Display(Name = "Bind address", Description = "Address to listen on. 127.0.0.1 = this PC only (recommended).", Order = 2, GroupName = "Feed")]
		public string BindAddress { get; set; }

		[Range(1, 100000)]
		[Display(Name = "Look-back value", Description = "History sent to a client: this many look-back units.", Order = 3, GroupName = "Feed")]
		public int LookbackValue { get; set; }

		[Display(Name = "Look-back unit", Description = "Days, Weeks, Months (30 days) or Years (365 days).", Order = 4, GroupName = "Feed")]
		public VrevLookbackUnit LookbackUnit { get; set; }

		[Range(100, 10000000)]
		[Display(Name = "Max history bars", Description = "Upper bound of the history kept and sent.", Order = 5, GroupName = "Feed")]
		public int MaxHistoryBars { get; set; }

		[Range(1, 10000000)]
		[Display(Name = "History bars (non-time charts)", Description = "History size for tick, volume, range and other non-time bars.", Order = 6, GroupName = "Feed")]
		public int HistoryBarCount { get; set; }

		[Display(Name = "Send ticks", Description = "Also send a tick message for every last-trade update.", Order = 7, GroupName = "Feed")]
		public bool SendTicks { get; set; }

		[Range(1, 3600)]
		[Display(Name = "Ping interval (s)", Description = "Seconds between text 'ping' messages.", Order = 8, GroupName = "Feed")]
		public int PingIntervalSeconds { get; set; }

		[Range(1, 3600)]
		[Display(Name = "Pong timeout (s)", Description = "A client that does not answer 'pong' within this time is dropped.", Order = 9, GroupName = "Feed")]
		public int PongTimeoutSeconds { get; set; }

		[Range(100, 10000000)]
		[Display(Name = "Max queued messages", Description = "Per-client send queue bound; a slower client is dropped.", Order = 10, GroupName = "Feed")]
		public int MaxQueuedMessages { get; set; }

		[Display(Name = "Chart time zone id", Description = "Time zone of NinjaTrader bar times. Empty = this PC's zone (NinjaTrader's default).", Order = 11, GroupName = "Feed")]
		public string ChartTimeZoneId { get; set; }

		[Display(Name = "Token", Description = "Shared feed token a client must send (vrev: [feed] token). Empty = none; set it whenever Bind address is not 127.0.0.1.", Order = 12, GroupName = "Feed")]
		public string Token { get; set; }

		[Display(Name = "Allowed origins", Description = "Browser origins allowed to connect, comma-separated ('*' = any). Empty = no web page can connect (vrev sends no Origin).", Order = 13, GroupName = "Feed")]
		public string AllowedOrigins { get; set; }
		#endregion
	}
}

namespace NinjaTrader.NinjaScript.Indicators.VrevFeed
{
	public enum VrevLookbackUnit
	{
		Days,
		Weeks,
		Months,
		Years
	}

	/// <summary>One bar as published: close time in UTC, invariant prices.</summary>
	public sealed class VrevBar
	{
		public VrevBar(DateTime timeUtc, double open, double high, double low, double close, long volume)
		{
			TimeUtc = DateTime.SpecifyKind(timeUtc, DateTimeKind.Utc);
			Open = open;
			High = high;
			Low = low;
			Close = close;
			Volume = volume;
		}

		public DateTime TimeUtc { get; private set; }
		public double Open { get; private set; }
		public double High { get; private set; }
		public double Low { get; private set; }
		public double Close { get; private set; }
		public long Volume { get; private set; }
	}

	/// <summary>History size from a calendar look-back. Month = 30 days, year = 365 days.</summary>
	public static class VrevLookback
	{
		public const int MinimumBars = 100;

		public static long CalendarMinutes(int value, VrevLookbackUnit unit)
		{
			long days;
			if (unit == VrevLookbackUnit.Days)
				days = 1;
			else if (unit == VrevLookbackUnit.Weeks)
				days = 7;
			else if (unit == VrevLookbackUnit.Months)
				days = 30;
			else
				days = 365;
			return Math.Max(0, value) * days * 1440L;
		}

		/// <summary>
		/// Bars of history: calendar minutes / bar minutes for time bars (periodSeconds &gt; 0),
		/// at least 100, at most maxBars. Non-time bars (periodSeconds == 0) use barCountFallback,
		/// capped by maxBars.
		/// </summary>
		public static int BarCount(int value, VrevLookbackUnit unit, int periodSeconds, int barCountFallback, int maxBars)
		{
			long cap = Math.Max(1, maxBars);
			long bars;
			if (periodSeconds > 0)
			{
				bars = CalendarMinutes(value, unit) * 60L / periodSeconds;
				if (bars < MinimumBars)
					bars = MinimumBars;
			}
			else
			{
				bars = Math.Max(1, barCountFallback);
			}
			if (bars > cap)
				bars = cap;
			return (int)bars;
		}
	}

	/// <summary>Time zone lookup and NinjaTrader-local to UTC conversion.</summary>
	public static class VrevTime
	{
		public const string UtcFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

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

		/// <summary>America/New_York, found by its Windows or IANA id.</summary>
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
				if (previousUtc.HasValue && early <= previousUtc.Value)
					return DateTime.SpecifyKind(t - min, DateTimeKind.Utc);
				return early;
			}
			return DateTime.SpecifyKind(TimeZoneInfo.ConvertTimeToUtc(t, zone), DateTimeKind.Utc);
		}

		public static string FormatUtc(DateTime utc)
		{
			return DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString(UtcFormat, CultureInfo.InvariantCulture);
		}

		/// <summary>RFC 3339 UTC ("Z" or +00:00 style offsets), with or without fractions.</summary>
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

	/// <summary>JSON text of every feed message, invariant culture, UTC timestamps.</summary>
	public static class VrevJson
	{
		public static string Number(double value)
		{
			if (double.IsNaN(value) || double.IsInfinity(value))
				return "null";
			// 15 significant digits drop binary noise (6107.2499999999995 -> 6107.25).
			string s = value.ToString("G15", CultureInfo.InvariantCulture);
			if (s.IndexOf('E') >= 0)
				s = value.ToString("0.0##############", CultureInfo.InvariantCulture);
			if (s.IndexOf('.') < 0)
				s += ".0";
			return s;
		}

		public static string Integer(long value)
		{
			return value.ToString(CultureInfo.InvariantCulture);
		}

		public static string Quote(string value)
		{
			if (value == null)
				return "null";
			StringBuilder sb = new StringBuilder(value.Length + 2);
			sb.Append('"');
			foreach (char c in value)
			{
				if (c == '"') sb.Append("\\\"");
				else if (c == '\\') sb.Append("\\\\");
				else if (c == '\n') sb.Append("\\n");
				else if (c == '\r') sb.Append("\\r");
				else if (c == '\t') sb.Append("\\t");
				else if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
				else sb.Append(c);
			}
			sb.Append('"');
			return sb.ToString();
		}

		public static string Hello(string instrument, int barPeriodSeconds, double tickSize, double pointValue)
		{
			return "{\"type\":\"hello\",\"protocol\":1,\"instrument\":" + Quote(instrument)
				+ ",\"bar_period_seconds\":" + Integer(barPeriodSeconds)
				+ ",\"tick_size\":" + Number(tickSize)
				+ ",\"point_value\":" + Number(pointValue) + "}";
		}

		/// <summary>type is "bar" (live) or "historical_bar".</summary>
		public static string Bar(string type, string symbol, VrevBar bar)
		{
			return "{\"type\":" + Quote(type) + ",\"symbol\":" + Quote(symbol)
				+ ",\"open\":" + Number(bar.Open)
				+ ",\"high\":" + Number(bar.High)
				+ ",\"low\":" + Number(bar.Low)
				+ ",\"close\":" + Number(bar.Close)
				+ ",\"volume\":" + Integer(bar.Volume)
				+ ",\"timestamp\":" + Quote(VrevTime.FormatUtc(bar.TimeUtc)) + "}";
		}

		public static string HistoricalStart(int count)
		{
			return "{\"type\":\"historical_start\",\"count\":" + Integer(count) + "}";
		}

		public static string HistoricalEnd(int sent)
		{
			return "{\"type\":\"historical_end\",\"sent\":" + Integer(sent) + "}";
		}

		public static string Tick(string symbol, double price, long volume, DateTime utc)
		{
			return "{\"type\":\"tick\",\"symbol\":" + Quote(symbol) + ",\"price\":" + Number(price)
				+ ",\"volume\":" + Integer(volume) + ",\"timestamp\":" + Quote(VrevTime.FormatUtc(utc)) + "}";
		}

		/// <summary>
		/// Parses one flat JSON object (string, number, true/false/null values; no nesting).
		/// Numbers come back as double, null as null. Returns false on anything else.
		/// </summary>
		public static bool TryParseFlatObject(string json, out Dictionary<string, object> result)
		{
			result = null;
			if (json == null)
				return false;
			Dictionary<string, object> map = new Dictionary<string, object>(StringComparer.Ordinal);
			int i = 0;
			SkipWs(json, ref i);
			if (i >= json.Length || json[i] != '{')
				return false;
			i++;
			SkipWs(json, ref i);
			if (i < json.Length && json[i] == '}')
			{
				i++;
			}
			else
			{
				while (true)
				{
					string key;
					if (!TryString(json, ref i, out key))
						return false;
					SkipWs(json, ref i);
					if (i >= json.Length || json[i] != ':')
						return false;
					i++;
					SkipWs(json, ref i);
					object value;
					if (!TryValue(json, ref i, out value))
						return false;
					map[key] = value;
					SkipWs(json, ref i);
					if (i >= json.Length)
						return false;
					if (json[i] == ',')
					{
						i++;
						SkipWs(json, ref i);
						continue;
					}
					if (json[i] == '}')
					{
						i++;
						break;
					}
					return false;
				}
			}
			SkipWs(json, ref i);
			if (i != json.Length)
				return false;
			result = map;
			return true;
		}

		private static void SkipWs(string s, ref int i)
		{
			while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
				i++;
		}

		private static bool TryValue(string s, ref int i, out object value)
		{
			value = null;
			if (i >= s.Length)
				return false;
			char c = s[i];
			if (c == '"')
			{
				string str;
				if (!TryString(s, ref i, out str))
					return false;
				value = str;
				return true;
			}
			if (string.CompareOrdinal(s, i, "null", 0, 4) == 0) { i += 4; value = null; return true; }
			if (string.CompareOrdinal(s, i, "true", 0, 4) == 0) { i += 4; value = true; return true; }
			if (string.CompareOrdinal(s, i, "false", 0, 5) == 0) { i += 5; value = false; return true; }
			int start = i;
			while (i < s.Length && ("+-.eE".IndexOf(s[i]) >= 0 || (s[i] >= '0' && s[i] <= '9')))
				i++;
			double d;
			if (i == start || !double.TryParse(s.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out d))
				return false;
			value = d;
			return true;
		}

		private static bool TryString(string s, ref int i, out string value)
		{
			value = null;
			if (i >= s.Length || s[i] != '"')
				return false;
			i++;
			StringBuilder sb = new StringBuilder();
			while (i < s.Length)
			{
				char c = s[i++];
				if (c == '"')
				{
					value = sb.ToString();
					return true;
				}
				if (c != '\\')
				{
					sb.Append(c);
					continue;
				}
				if (i >= s.Length)
					return false;
				char e = s[i++];
				if (e == '"' || e == '\\' || e == '/') sb.Append(e);
				else if (e == 'b') sb.Append('\b');
				else if (e == 'f') sb.Append('\f');
				else if (e == 'n') sb.Append('\n');
				else if (e == 'r') sb.Append('\r');
				else if (e == 't') sb.Append('\t');
				else if (e == 'u')
				{
					int code;
					if (i + 4 > s.Length || !int.TryParse(s.Substring(i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
						return false;
					sb.Append((char)code);
					i += 4;
				}
				else return false;
			}
			return false;
		}

		/// <summary>
		/// Reads a client's {"type":"subscribe","after":...}. after = null (or absent) means all history.
		/// Returns false (with a reason) when the text is not a valid subscribe message.
		/// </summary>
		public static bool TryParseSubscribe(string text, out DateTime? afterUtc, out string error)
		{
			afterUtc = null;
			error = null;
			Dictionary<string, object> map;
			if (!TryParseFlatObject(text, out map))
			{
				error = "not a flat JSON object";
				return false;
			}
			object type;
			if (!map.TryGetValue("type", out type) || !(type is string) || (string)type != "subscribe")
			{
				error = "type is not \"subscribe\"";
				return false;
			}
			object after;
			if (!map.TryGetValue("after", out after) || after == null)
				return true;
			string s = after as string;
			DateTime utc;
			if (s == null || !VrevTime.TryParseUtc(s, out utc))
			{
				error = "after is not an RFC 3339 UTC time";
				return false;
			}
			afterUtc = utc;
			return true;
		}
	}

	/// <summary>Bounded, time-ordered history (oldest bars fall out first).</summary>
	public sealed class VrevHistoryBuffer
	{
		private readonly VrevBar[] ring;
		private int start;
		private int count;
		private readonly object sync = new object();

		public VrevHistoryBuffer(int capacity)
		{
			ring = new VrevBar[Math.Max(1, capacity)];
		}

		public int Capacity { get { return ring.Length; } }

		public int Count { get { lock (sync) return count; } }

		/// <summary>Adds a bar; false (and nothing stored) when its time is not after the last bar's.</summary>
		public bool Add(VrevBar bar)
		{
			lock (sync)
			{
				if (count > 0 && bar.TimeUtc <= ring[(start + count - 1) % ring.Length].TimeUtc)
					return false;
				if (count < ring.Length)
				{
					ring[(start + count) % ring.Length] = bar;
					count++;
				}
				else
				{
					ring[start] = bar;
					start = (start + 1) % ring.Length;
				}
				return true;
			}
		}

		/// <summary>Copy of the bars whose close time is strictly after afterUtc (all when null), oldest first.</summary>
		public List<VrevBar> SelectAfter(DateTime? afterUtc)
		{
			lock (sync)
			{
				// binary search for the first bar with time > after
				int lo = 0, hi = count;
				if (afterUtc.HasValue)
				{
					while (lo < hi)
					{
						int mid = (lo + hi) / 2;
						if (ring[(start + mid) % ring.Length].TimeUtc <= afterUtc.Value)
							lo = mid + 1;
						else
							hi = mid;
					}
				}
				List<VrevBar> result = new List<VrevBar>(count - lo);
				for (int k = lo; k < count; k++)
					result.Add(ring[(start + k) % ring.Length]);
				return result;
			}
		}
	}

	public sealed class VrevFrame
	{
		public bool Fin;
		public byte Opcode;
		public byte[] Payload;
	}

	public sealed class VrevProtocolException : Exception
	{
		public VrevProtocolException(string message) : base(message) { }
	}

	/// <summary>RFC 6455 pieces: handshake accept key, frame encoding and decoding.</summary>
	public static class VrevWebSocket
	{
		public const byte OpContinuation = 0x0;
		public const byte OpText = 0x1;
		public const byte OpBinary = 0x2;
		public const byte OpClose = 0x8;
		public const byte OpPing = 0x9;
		public const byte OpPong = 0xA;
		public const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

		public static string AcceptKey(string secWebSocketKey)
		{
			using (SHA1 sha = SHA1.Create())
			{
				byte[] hash = sha.ComputeHash(Encoding.ASCII.GetBytes(secWebSocketKey.Trim() + Guid));
				return Convert.ToBase64String(hash);
			}
		}

		/// <summary>
		/// Validates an HTTP upgrade request (the text up to and including the blank line) and
		/// returns the 101 response, or null with an error and the HTTP error response to send.
		/// </summary>
		public static string BuildHandshakeResponse(string request, out string error, out string errorResponse)
		{
			error = null;
			errorResponse = null;
			string[] lines = (request ?? "").Split(new[] { "\r\n" }, StringSplitOptions.None);
			string[] requestLine = lines.Length > 0 ? lines[0].Split(' ') : new string[0];
			if (requestLine.Length < 3 || requestLine[0] != "GET" || !requestLine[2].StartsWith("HTTP/1.1", StringComparison.Ordinal))
			{
				error = "not an HTTP/1.1 GET request";
				errorResponse = HttpError("400 Bad Request", null);
				return null;
			}
			Dictionary<string, string> headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
			for (int i = 1; i < lines.Length; i++)
			{
				int colon = lines[i].IndexOf(':');
				if (colon <= 0)
					continue;
				string name = lines[i].Substring(0, colon).Trim();
				string value = lines[i].Substring(colon + 1).Trim();
				string existing;
				headers[name] = headers.TryGetValue(name, out existing) ? existing + ", " + value : value;
			}
			string upgrade, connection, key, version;
			headers.TryGetValue("Upgrade", out upgrade);
			headers.TryGetValue("Connection", out connection);
			headers.TryGetValue("Sec-WebSocket-Key", out key);
			headers.TryGetValue("Sec-WebSocket-Version", out version);
			if (upgrade == null || upgrade.IndexOf("websocket", StringComparison.OrdinalIgnoreCase) < 0
				|| connection == null || connection.IndexOf("upgrade", StringComparison.OrdinalIgnoreCase) < 0)
			{
				error = "not a WebSocket upgrade request";
				errorResponse = HttpError("400 Bad Request", null);
				return null;
			}
			if (version == null || version.Trim() != "13")
			{
				error = "unsupported Sec-WebSocket-Version '" + version + "'";
				errorResponse = HttpError("426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n");
				return null;
			}
			byte[] keyBytes = null;
			try
			{
				if (key != null)
					keyBytes = Convert.FromBase64String(key.Trim());
			}
			catch (FormatException)
			{
				keyBytes = null;
			}
			if (keyBytes == null || keyBytes.Length != 16)
			{
				error = "missing or invalid Sec-WebSocket-Key";
				errorResponse = HttpError("400 Bad Request", null);
				return null;
			}
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
				+ AcceptKey(key) + "\r\n\r\n";
		}

		/// <summary>
		/// As BuildHandshakeResponse, and then who may connect (issue 24): a browser Origin only
		/// when listed in allowedOrigins (comma-separated, "*" = any; browsers always send one,
		/// vrev never does), and, when token is not empty, the same token as "?token=" or an
		/// X-Vrev-Token header.
		/// </summary>
		public static string BuildHandshakeResponse(string request, string allowedOrigins, string token, out string error, out string errorResponse)
		{
			string response = BuildHandshakeResponse(request, out error, out errorResponse);
			if (response == null)
				return null;
			string[] lines = request.Split(new[] { "\r\n" }, StringSplitOptions.None);
			string origin = null, headerToken = null;
			for (int i = 1; i < lines.Length; i++)
			{
				int colon = lines[i].IndexOf(':');
				if (colon <= 0)
					continue;
				string name = lines[i].Substring(0, colon).Trim();
				string value = lines[i].Substring(colon + 1).Trim();
				if (string.Equals(name, "Origin", StringComparison.OrdinalIgnoreCase))
					origin = value;
				else if (string.Equals(name, "X-Vrev-Token", StringComparison.OrdinalIgnoreCase))
					headerToken = value;
			}
			if (origin != null && !OriginAllowed(origin, allowedOrigins))
			{
				error = "browser origin '" + origin + "' is not allowed (Allowed origins)";
				errorResponse = HttpError("403 Forbidden", null);
				return null;
			}
			if (!string.IsNullOrEmpty(token))
			{
				string given = headerToken;
				string target = lines[0].Split(' ')[1];
				int q = target.IndexOf('?');
				if (given == null && q >= 0)
				{
					foreach (string kv in target.Substring(q + 1).Split('&'))
					{
						if (kv.StartsWith("token=", StringComparison.Ordinal))
							given = Uri.UnescapeDataString(kv.Substring(6).Replace('+', ' '));
					}
				}
				if (given == null || !SameText(given, token))
				{
					error = "missing or wrong feed token";
					errorResponse = HttpError("401 Unauthorized", null);
					return null;
				}
			}
			return response;
		}

		private static bool OriginAllowed(string origin, string allowedOrigins)
		{
			foreach (string a in (allowedOrigins ?? "").Split(','))
			{
				string t = a.Trim();
				if (t.Length > 0 && (t == "*" || string.Equals(t, origin, StringComparison.OrdinalIgnoreCase)))
					return true;
			}
			return false;
		}

		/// <summary>Compares without stopping at the first difference.</summary>
		private static bool SameText(string a, string b)
		{
			if (a.Length != b.Length)
				return false;
			int diff = 0;
			for (int i = 0; i < a.Length; i++)
				diff |= a[i] ^ b[i];
			return diff == 0;
		}

		/// <summary>The warning for a bind address beyond loopback, naming the exposure; null on loopback.</summary>
		public static string ExposureWarning(string bindAddress, bool token)
		{
			IPAddress ip;
			if (!IPAddress.TryParse((bindAddress ?? "").Trim(), out ip) || IPAddress.IsLoopback(ip))
				return null;
			string who = ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)
				? "every network this PC is on (all interfaces)"
				: "the network of " + ip;
			return "WARNING listening on " + ip + ": any machine on " + who + " can connect and read the feed"
				+ (token ? " (a client must send the shared token)" : "; set the Token property (vrev: [feed] token) or bind 127.0.0.1");
		}

		private static string HttpError(string status, string extraHeaders)
		{
			return "HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n" + (extraHeaders ?? "") + "\r\n";
		}

		/// <summary>One frame, FIN set. Server frames pass maskKey null (unmasked); clients pass 4 bytes.</summary>
		public static byte[] EncodeFrame(byte opcode, byte[] payload, byte[] maskKey)
		{
			if (payload == null)
				payload = new byte[0];
			int len = payload.Length;
			int headerLen = 2 + (len <= 125 ? 0 : len <= 65535 ? 2 : 8) + (maskKey != null ? 4 : 0);
			byte[] frame = new byte[headerLen + len];
			frame[0] = (byte)(0x80 | (opcode & 0x0F));
			byte maskBit = maskKey != null ? (byte)0x80 : (byte)0;
			int p = 2;
			if (len <= 125)
			{
				frame[1] = (byte)(maskBit | len);
			}
			else if (len <= 65535)
			{
				frame[1] = (byte)(maskBit | 126);
				frame[2] = (byte)(len >> 8);
				frame[3] = (byte)len;
				p = 4;
			}
			else
			{
				frame[1] = (byte)(maskBit | 127);
				ulong l = (ulong)len;
				for (int i = 0; i < 8; i++)
					frame[2 + i] = (byte)(l >> (56 - 8 * i));
				p = 10;
			}
			if (maskKey != null)
			{
				Buffer.BlockCopy(maskKey, 0, frame, p, 4);
				p += 4;
				for (int i = 0; i < len; i++)
					frame[p + i] = (byte)(payload[i] ^ maskKey[i % 4]);
			}
			else
			{
				Buffer.BlockCopy(payload, 0, frame, p, len);
			}
			return frame;
		}

		public static byte[] EncodeText(string text)
		{
			return EncodeFrame(OpText, Encoding.UTF8.GetBytes(text), null);
		}

		/// <summary>
		/// Decodes one frame from data[offset..offset+count). Returns null when more bytes are needed.
		/// Unmasks masked payloads. Throws VrevProtocolException on invalid frames.
		/// </summary>
		public static VrevFrame DecodeFrame(byte[] data, int offset, int count, int maxPayload, out int consumed)
		{
			consumed = 0;
			if (count < 2)
				return null;
			byte b0 = data[offset], b1 = data[offset + 1];
			int p = 2;
			ulong len = (ulong)(b1 & 0x7F);
			if (len == 126)
			{
				if (count < 4) return null;
				len = (ulong)((data[offset + 2] << 8) | data[offset + 3]);
				p = 4;
			}
			else if (len == 127)
			{
				if (count < 10) return null;
				len = 0;
				for (int i = 0; i < 8; i++)
					len = (len << 8) | data[offset + 2 + i];
				p = 10;
			}
			CheckHeader(b0, b1, len, maxPayload);
			bool masked = (b1 & 0x80) != 0;
			byte[] mask = null;
			if (masked)
			{
				if (count < p + 4) return null;
				mask = new byte[4];
				Buffer.BlockCopy(data, offset + p, mask, 0, 4);
				p += 4;
			}
			if ((ulong)count < (ulong)p + len)
				return null;
			byte[] payload = new byte[(int)len];
			Buffer.BlockCopy(data, offset + p, payload, 0, (int)len);
			if (mask != null)
				Unmask(payload, mask);
			consumed = p + (int)len;
			return new VrevFrame { Fin = (b0 & 0x80) != 0, Opcode = (byte)(b0 & 0x0F), Payload = payload };
		}

		/// <summary>Reads one frame from a stream; null on a clean end of stream before the frame.</summary>
		public static VrevFrame ReadFrame(Stream stream, int maxPayload, bool requireMask)
		{
			byte[] head = new byte[2];
			if (!ReadExactly(stream, head, 0, 2, true))
				return null;
			ulong len = (ulong)(head[1] & 0x7F);
			if (len == 126)
			{
				byte[] ext = new byte[2];
				ReadExactly(stream, ext, 0, 2, false);
				len = (ulong)((ext[0] << 8) | ext[1]);
			}
			else if (len == 127)
			{
				byte[] ext = new byte[8];
				ReadExactly(stream, ext, 0, 8, false);
				len = 0;
				for (int i = 0; i < 8; i++)
					len = (len << 8) | ext[i];
			}
			CheckHeader(head[0], head[1], len, maxPayload);
			bool masked = (head[1] & 0x80) != 0;
			if (requireMask && !masked)
				throw new VrevProtocolException("client frame is not masked");
			byte[] mask = null;
			if (masked)
			{
				mask = new byte[4];
				ReadExactly(stream, mask, 0, 4, false);
			}
			byte[] payload = new byte[(int)len];
			ReadExactly(stream, payload, 0, (int)len, false);
			if (mask != null)
				Unmask(payload, mask);
			return new VrevFrame { Fin = (head[0] & 0x80) != 0, Opcode = (byte)(head[0] & 0x0F), Payload = payload };
		}

		public static void Unmask(byte[] payload, byte[] mask)
		{
			for (int i = 0; i < payload.Length; i++)
				payload[i] = (byte)(payload[i] ^ mask[i % 4]);
		}

		private static void CheckHeader(byte b0, byte b1, ulong len, int maxPayload)
		{
			if ((b0 & 0x70) != 0)
				throw new VrevProtocolException("reserved bits set (no extension was negotiated)");
			byte opcode = (byte)(b0 & 0x0F);
			bool control = (opcode & 0x08) != 0;
			if (opcode != OpContinuation && opcode != OpText && opcode != OpBinary && opcode != OpClose && opcode != OpPing && opcode != OpPong)
				throw new VrevProtocolException("unknown opcode " + opcode.ToString(CultureInfo.InvariantCulture));
			if (control && ((b0 & 0x80) == 0 || len > 125))
				throw new VrevProtocolException("fragmented or oversized control frame");
			if ((len >> 63) != 0)
				throw new VrevProtocolException("64-bit length with the top bit set");
			if (len > (ulong)Math.Max(0, maxPayload))
				throw new VrevProtocolException("frame of " + len.ToString(CultureInfo.InvariantCulture) + " bytes exceeds the limit of " + maxPayload.ToString(CultureInfo.InvariantCulture));
		}

		private static bool ReadExactly(Stream stream, byte[] buffer, int offset, int count, bool allowCleanEnd)
		{
			int read = 0;
			while (read < count)
			{
				int n = stream.Read(buffer, offset + read, count - read);
				if (n <= 0)
				{
					if (read == 0 && allowCleanEnd)
						return false;
					throw new EndOfStreamException("connection closed inside a frame");
				}
				read += n;
			}
			return true;
		}
	}

	public sealed class VrevFeedOptions
	{
		public VrevFeedOptions()
		{
			BindAddress = "127.0.0.1";
			Port = 6789;
			MaxQueuedMessages = 20000;
			PingIntervalSeconds = 10;
			PongTimeoutSeconds = 30;
			SubscribeWaitMilliseconds = 2000;
			MaxClients = 32;
			MaxClientsPerAddress = 8;
			HandshakeTimeoutMilliseconds = 5000;
			AllowedOrigins = "";
			Token = "";
			MaxClientPayload = 65536;
			SendTimeoutMilliseconds = 10000;
			Instrument = "";
			BarPeriodSeconds = 60;
			TickSize = 0.25;
			PointValue = 50.0;
		}

		public string BindAddress { get; set; }
		/// <summary>0 = any free port (tests); see VrevFeedServer.BoundPort.</summary>
		public int Port { get; set; }
		public int MaxQueuedMessages { get; set; }
		public int PingIntervalSeconds { get; set; }
		public int PongTimeoutSeconds { get; set; }
		public int SubscribeWaitMilliseconds { get; set; }
		public int MaxClients { get; set; }
		/// <summary>Connections from one address (run, record and a check all come from 127.0.0.1: at least 4).</summary>
		public int MaxClientsPerAddress { get; set; }
		/// <summary>A client that has not completed the WebSocket handshake by then is dropped.</summary>
		public int HandshakeTimeoutMilliseconds { get; set; }
		/// <summary>Browser origins allowed to connect, comma-separated ("*" = any). Empty = none.</summary>
		public string AllowedOrigins { get; set; }
		/// <summary>Shared token a client must send. Empty = none.</summary>
		public string Token { get; set; }
		public int MaxClientPayload { get; set; }
		public int SendTimeoutMilliseconds { get; set; }
		public string Instrument { get; set; }
		public int BarPeriodSeconds { get; set; }
		public double TickSize { get; set; }
		public double PointValue { get; set; }
	}

	/// <summary>
	/// The WebSocket server of the publisher. Threads: one accept thread, a reader and a writer
	/// thread per client, one ping timer. Publish() never blocks on a socket: it appends to
	/// bounded per-client queues; a client whose queue would exceed the bound is dropped.
	/// </summary>
	public sealed class VrevFeedServer : IDisposable
	{
		private readonly VrevFeedOptions options;
		private readonly VrevHistoryBuffer history;
		private readonly Action<string> log;
		private readonly object sync = new object();
		private readonly List<Client> clients = new List<Client>();
		private TcpListener listener;
		private Thread acceptThread;
		private Timer pingTimer;
		private volatile bool running;
		private int nextClientId;
		private long pongsReceived;
		private long clientsDropped;

		public VrevFeedServer(VrevFeedOptions options, VrevHistoryBuffer history, Action<string> log)
		{
			if (options == null) throw new ArgumentNullException("options");
			if (history == null) throw new ArgumentNullException("history");
			this.options = options;
			this.history = history;
			this.log = log ?? (s => { });
		}

		public int BoundPort { get; private set; }
		public bool IsRunning { get { return running; } }
		public long PongsReceived { get { return Interlocked.Read(ref pongsReceived); } }
		public long ClientsDropped { get { return Interlocked.Read(ref clientsDropped); } }
		public VrevHistoryBuffer History { get { return history; } }

		public int ClientCount
		{
			get { lock (sync) return clients.Count; }
		}

		public void Start()
		{
			lock (sync)
			{
				if (running)
					return;
				IPAddress address;
				if (!IPAddress.TryParse((options.BindAddress ?? "").Trim(), out address))
					throw new ArgumentException("bind address '" + options.BindAddress + "' is not an IP address");
				listener = new TcpListener(address, options.Port);
				listener.Start();
				BoundPort = ((IPEndPoint)listener.LocalEndpoint).Port;
				running = true;
				acceptThread = new Thread(AcceptLoop);
				acceptThread.IsBackground = true;
				acceptThread.Name = "vrev feed accept";
				acceptThread.Start();
				int pingMs = Math.Max(1, options.PingIntervalSeconds) * 1000;
				pingTimer = new Timer(OnPingTimer, null, pingMs, pingMs);
			}
			Log("listening on ws://" + options.BindAddress + ":" + BoundPort.ToString(CultureInfo.InvariantCulture));
			string exposure = VrevWebSocket.ExposureWarning(options.BindAddress, !string.IsNullOrEmpty(options.Token));
			if (exposure != null)
				Log(exposure);
		}

		/// <summary>Adds a closed bar to history; live bars also go to every subscribed client.</summary>
		public bool Publish(VrevBar bar, bool live)
		{
			string json = null;
			List<Client> drop = null;
			lock (sync)
			{
				if (!history.Add(bar))
					return false;
				if (!live)
					return true;
				foreach (Client c in clients)
				{
					if (!c.Live)
						continue;
					if (json == null)
						json = VrevJson.Bar("bar", options.Instrument, bar);
					if (!c.Enqueue(OutItem.Text(json), options.MaxQueuedMessages))
					{
						if (drop == null) drop = new List<Client>();
						drop.Add(c);
					}
				}
			}
			DropAll(drop, "send queue exceeded " + options.MaxQueuedMessages.ToString(CultureInfo.InvariantCulture) + " messages");
			return true;
		}

		public void PublishTick(DateTime utc, double price, long volume)
		{
			string json = null;
			List<Client> drop = null;
			lock (sync)
			{
				foreach (Client c in clients)
				{
					if (!c.Live)
						continue;
					if (json == null)
						json = VrevJson.Tick(options.Instrument, price, volume, utc);
					if (!c.Enqueue(OutItem.Text(json), options.MaxQueuedMessages))
					{
						if (drop == null) drop = new List<Client>();
						drop.Add(c);
					}
				}
			}
			DropAll(drop, "send queue exceeded " + options.MaxQueuedMessages.ToString(CultureInfo.InvariantCulture) + " messages");
		}

		public void Stop()
		{
			List<Client> all;
			lock (sync)
			{
				if (!running && listener == null)
					return;
				running = false;
				try { if (listener != null) listener.Stop(); }
				catch (Exception ex) { Log("stop: " + ex.Message); }
				listener = null;
				if (pingTimer != null)
				{
					pingTimer.Dispose();
					pingTimer = null;
				}
				all = new List<Client>(clients);
				clients.Clear();
			}
			foreach (Client c in all)
				c.Close(null, true);
			Thread t = acceptThread;
			if (t != null && t != Thread.CurrentThread)
				t.Join(2000);
			acceptThread = null;
			Log("stopped");
		}

		public void Dispose()
		{
			Stop();
		}

		private void Log(string message)
		{
			try { log(message); }
			catch (Exception) { }
		}

		private void AcceptLoop()
		{
			while (running)
			{
				TcpClient tcp;
				try
				{
					TcpListener l = listener;
					if (l == null)
						break;
					tcp = l.AcceptTcpClient();
				}
				catch (Exception ex)
				{
					if (running)
					{
						Log("accept failed: " + ex.Message);
						Thread.Sleep(200);
					}
					continue;
				}
				try
				{
					Client c;
					lock (sync)
					{
						if (!running || clients.Count >= options.MaxClients)
						{
							if (running)
								Log("refused a connection: already " + clients.Count.ToString(CultureInfo.InvariantCulture) + " clients");
							tcp.Close();
							continue;
						}
						IPAddress from = RemoteAddress(tcp);
						int sameAddress = 0;
						foreach (Client other in clients)
						{
							if (from != null && from.Equals(other.Address))
								sameAddress++;
						}
						if (sameAddress >= Math.Max(4, options.MaxClientsPerAddress))
						{
							Log("refused a connection from " + from + ": already " + sameAddress.ToString(CultureInfo.InvariantCulture) + " clients from that address");
							tcp.Close();
							continue;
						}
						c = new Client(this, tcp, ++nextClientId);
						clients.Add(c);
					}
					Thread reader = new Thread(c.ReaderMain);
					reader.IsBackground = true;
					reader.Name = "vrev feed client " + c.Id.ToString(CultureInfo.InvariantCulture);
					reader.Start();
				}
				catch (Exception ex)
				{
					Log("client setup failed: " + ex.Message);
					try { tcp.Close(); } catch (Exception) { }
				}
			}
		}

		private static IPAddress RemoteAddress(TcpClient tcp)
		{
			try
			{
				IPEndPoint ep = tcp.Client.RemoteEndPoint as IPEndPoint;
				return ep != null ? ep.Address : null;
			}
			catch (Exception)
			{
				return null;
			}
		}

		private void OnPingTimer(object state)
		{
			try
			{
				List<Client> snapshot;
				lock (sync)
					snapshot = new List<Client>(clients);
				DateTime now = DateTime.UtcNow;
				List<Client> drop = null;
				List<Client> overflow = null;
				foreach (Client c in snapshot)
				{
					if (!c.HandshakeDone)
						continue;
					DateTime? unanswered = c.FirstUnansweredPingUtc;
					if (unanswered.HasValue && (now - unanswered.Value).TotalSeconds > options.PongTimeoutSeconds)
					{
						if (drop == null) drop = new List<Client>();
						drop.Add(c);
						continue;
					}
					if (!unanswered.HasValue)
						c.FirstUnansweredPingUtc = now;
					if (!c.Enqueue(OutItem.Text("ping"), options.MaxQueuedMessages))
					{
						if (overflow == null) overflow = new List<Client>();
						overflow.Add(c);
					}
				}
				DropAll(drop, "no pong within " + options.PongTimeoutSeconds.ToString(CultureInfo.InvariantCulture) + " s");
				DropAll(overflow, "send queue exceeded " + options.MaxQueuedMessages.ToString(CultureInfo.InvariantCulture) + " messages");
			}
			catch (Exception ex)
			{
				Log("ping timer: " + ex.Message);
			}
		}

		private void DropAll(List<Client> list, string reason)
		{
			if (list == null)
				return;
			foreach (Client c in list)
			{
				Interlocked.Increment(ref clientsDropped);
				c.Close("dropped: " + reason, true);
			}
		}

		private void Remove(Client c)
		{
			lock (sync)
				clients.Remove(c);
		}

		/// <summary>
		/// Snapshot of history after the resume time and switch to live, atomically with respect to
		/// Publish: every bar is either in this client's history or sent live, never both.
		/// </summary>
		private void Subscribe(Client c, DateTime? afterUtc)
		{
			lock (sync)
			{
				if (!clients.Contains(c))
					return;
				List<VrevBar> bars = history.SelectAfter(afterUtc);
				c.Enqueue(OutItem.History(bars), int.MaxValue);
				c.Live = true;
			}
			Log("client " + c.Name + " subscribed after " + (afterUtc.HasValue ? VrevTime.FormatUtc(afterUtc.Value) : "(all)"));
		}

		private sealed class OutItem
		{
			public string TextPayload;
			public byte Opcode;
			public byte[] Payload;
			public List<VrevBar> Bars;

			public static OutItem Text(string text) { return new OutItem { TextPayload = text, Opcode = VrevWebSocket.OpText }; }
			public static OutItem Control(byte opcode, byte[] payload) { return new OutItem { Opcode = opcode, Payload = payload }; }
			public static OutItem History(List<VrevBar> bars) { return new OutItem { Bars = bars }; }
		}

		private sealed class Client
		{
			private readonly VrevFeedServer server;
			private readonly TcpClient tcp;
			private readonly object qlock = new object();
			private readonly Queue<OutItem> queue = new Queue<OutItem>();
			private NetworkStream stream;
			private bool closed;
			private int closeLogged;
			private volatile bool closeFrameQueued;
			private readonly ManualResetEvent writerExited = new ManualResetEvent(false);
			private long firstUnansweredPingTicks;

			public Client(VrevFeedServer server, TcpClient tcp, int id)
			{
				this.server = server;
				this.tcp = tcp;
				Id = id;
				string remote = "?";
				try { remote = tcp.Client.RemoteEndPoint.ToString(); } catch (Exception) { }
				Name = "#" + id.ToString(CultureInfo.InvariantCulture) + " " + remote;
				Address = RemoteAddress(tcp);
			}

			public IPAddress Address { get; private set; }

			public int Id { get; private set; }
			public string Name { get; private set; }
			public volatile bool Live;
			public volatile bool HandshakeDone;

			public DateTime? FirstUnansweredPingUtc
			{
				get
				{
					long t = Interlocked.Read(ref firstUnansweredPingTicks);
					return t == 0 ? (DateTime?)null : new DateTime(t, DateTimeKind.Utc);
				}
				set { Interlocked.Exchange(ref firstUnansweredPingTicks, value.HasValue ? value.Value.Ticks : 0); }
			}

			/// <summary>False when the queue is full (the caller drops the client).</summary>
			public bool Enqueue(OutItem item, int bound)
			{
				lock (qlock)
				{
					if (closed)
						return true;
					if (queue.Count >= bound)
						return false;
					queue.Enqueue(item);
					Monitor.Pulse(qlock);
					return true;
				}
			}

			public void Close(string reason, bool logIt)
			{
				lock (qlock)
				{
					closed = true;
					queue.Clear();
					Monitor.PulseAll(qlock);
				}
				server.Remove(this);
				try { tcp.Close(); } catch (Exception) { }
				if (logIt && reason != null && Interlocked.Exchange(ref closeLogged, 1) == 0)
					server.Log("client " + Name + " " + reason);
			}

			public void ReaderMain()
			{
				string endReason = "disconnected";
				try
				{
					tcp.NoDelay = true;
					tcp.SendTimeout = server.options.SendTimeoutMilliseconds;
					int handshakeMs = Math.Max(100, server.options.HandshakeTimeoutMilliseconds);
					tcp.ReceiveTimeout = handshakeMs;
					stream = tcp.GetStream();
					string request = ReadHttpHeader(tcp, stream, 8192, DateTime.UtcNow.AddMilliseconds(handshakeMs));
					tcp.ReceiveTimeout = 10000;
					string error, errorResponse;
					string response = VrevWebSocket.BuildHandshakeResponse(request, server.options.AllowedOrigins, server.options.Token, out error, out errorResponse);
					if (response == null)
					{
						byte[] err = Encoding.ASCII.GetBytes(errorResponse);
						stream.Write(err, 0, err.Length);
						endReason = "handshake refused: " + error;
						return;
					}
					byte[] ok = Encoding.ASCII.GetBytes(response);
					stream.Write(ok, 0, ok.Length);
					HandshakeDone = true;
					server.Log("client " + Name + " connected");

					Enqueue(OutItem.Text(VrevJson.Hello(server.options.Instrument, server.options.BarPeriodSeconds, server.options.TickSize, server.options.PointValue)), int.MaxValue);
					Thread writer = new Thread(WriterMain);
					writer.IsBackground = true;
					writer.Name = "vrev feed writer " + Id.ToString(CultureInfo.InvariantCulture);
					writer.Start();

					// Wait up to SubscribeWaitMilliseconds for {"type":"subscribe","after":...}.
					DateTime? after = null;
					DateTime deadline = DateTime.UtcNow.AddMilliseconds(server.options.SubscribeWaitMilliseconds);
					bool subscribed = false;
					StringBuilder fragments = null;
					while (!subscribed)
					{
						int remainingMs = (int)(deadline - DateTime.UtcNow).TotalMilliseconds;
						if (remainingMs <= 0 || !tcp.Client.Poll(remainingMs * 1000, SelectMode.SelectRead))
							break;
						string text;
						if (!ReadMessage(ref fragments, out text))
						{
							endReason = "closed by client";
							WaitForCloseFrame();
							return;
						}
						if (text == null)
							continue;
						string perr;
						if (VrevJson.TryParseSubscribe(text, out after, out perr))
							subscribed = true;
						else if (text != "pong")
							server.Log("client " + Name + ": ignored message before subscribe (" + perr + ")");
					}
					server.Subscribe(this, after);

					tcp.ReceiveTimeout = 0;
					while (true)
					{
						string text;
						if (!ReadMessage(ref fragments, out text))
						{
							endReason = "closed by client";
							WaitForCloseFrame();
							return;
						}
					}
				}
				catch (VrevProtocolException ex)
				{
					endReason = "protocol error: " + ex.Message;
					QueueClose(1002);
					WaitForCloseFrame();
				}
				catch (Exception ex)
				{
					endReason = closed ? null : "connection lost: " + ex.Message;
				}
				finally
				{
					// Logs once: a client already dropped (and logged) is not logged again.
					Close(endReason == null ? null : "disconnected: " + endReason, true);
				}
			}

			/// <summary>Reads one frame; text gets a complete message (or null). False when the connection ends.</summary>
			private bool ReadMessage(ref StringBuilder fragments, out string text)
			{
				text = null;
				VrevFrame f = VrevWebSocket.ReadFrame(stream, server.options.MaxClientPayload, true);
				if (f == null)
					return false;
				if (f.Opcode == VrevWebSocket.OpClose)
				{
					byte[] echo = f.Payload.Length >= 2 ? new[] { f.Payload[0], f.Payload[1] } : new byte[0];
					closeFrameQueued = true;
					Enqueue(OutItem.Control(VrevWebSocket.OpClose, echo), int.MaxValue);
					return false;
				}
				if (f.Opcode == VrevWebSocket.OpPing)
				{
					Enqueue(OutItem.Control(VrevWebSocket.OpPong, f.Payload), int.MaxValue);
					return true;
				}
				if (f.Opcode == VrevWebSocket.OpPong)
				{
					FirstUnansweredPingUtc = null;
					return true;
				}
				if (f.Opcode == VrevWebSocket.OpText || (f.Opcode == VrevWebSocket.OpContinuation && fragments != null))
				{
					if (fragments == null)
						fragments = new StringBuilder();
					fragments.Append(Encoding.UTF8.GetString(f.Payload));
					if (fragments.Length > server.options.MaxClientPayload)
						throw new VrevProtocolException("message too long");
					if (!f.Fin)
						return true;
					text = fragments.ToString();
					fragments = null;
					if (text == "pong")
					{
						FirstUnansweredPingUtc = null;
						Interlocked.Increment(ref server.pongsReceived);
					}
					return true;
				}
				if (f.Opcode == VrevWebSocket.OpContinuation)
					throw new VrevProtocolException("continuation frame without a start");
				return true; // binary: ignored
			}

			private void QueueClose(int code)
			{
				closeFrameQueued = true;
				Enqueue(OutItem.Control(VrevWebSocket.OpClose, new[] { (byte)(code >> 8), (byte)code }), int.MaxValue);
			}

			/// <summary>Gives the writer up to 1 s to send a queued close frame (it then closes the socket).</summary>
			private void WaitForCloseFrame()
			{
				if (closeFrameQueued)
					writerExited.WaitOne(1000);
			}

			private void WriterMain()
			{
				try
				{
					WriterLoop();
				}
				finally
				{
					writerExited.Set();
				}
			}

			private void WriterLoop()
			{
				try
				{
					while (true)
					{
						OutItem item;
						lock (qlock)
						{
							while (queue.Count == 0 && !closed)
								Monitor.Wait(qlock, 1000);
							if (closed)
								return;
							item = queue.Dequeue();
						}
						if (item.Bars != null)
						{
							string symbol = server.options.Instrument;
							Send(VrevWebSocket.EncodeText(VrevJson.HistoricalStart(item.Bars.Count)));
							int sent = 0;
							foreach (VrevBar b in item.Bars)
							{
								if (IsClosed())
									return;
								Send(VrevWebSocket.EncodeText(VrevJson.Bar("historical_bar", symbol, b)));
								sent++;
							}
							Send(VrevWebSocket.EncodeText(VrevJson.HistoricalEnd(sent)));
						}
						else if (item.TextPayload != null)
						{
							Send(VrevWebSocket.EncodeText(item.TextPayload));
						}
						else
						{
							Send(VrevWebSocket.EncodeFrame(item.Opcode, item.Payload, null));
							if (item.Opcode == VrevWebSocket.OpClose)
							{
								Close(null, false);
								return;
							}
						}
					}
				}
				catch (Exception ex)
				{
					if (!IsClosed())
					{
						Interlocked.Increment(ref server.clientsDropped);
						Close("dropped: send failed: " + ex.Message, true);
					}
				}
			}

			private bool IsClosed()
			{
				lock (qlock) return closed;
			}

			private void Send(byte[] frame)
			{
				stream.Write(frame, 0, frame.Length);
			}

			/// <summary>The upgrade request, read within the deadline: a client that trickles bytes is dropped at it.</summary>
			private static string ReadHttpHeader(TcpClient tcp, Stream s, int max, DateTime deadline)
			{
				List<byte> bytes = new List<byte>(512);
				byte[] one = new byte[1];
				while (bytes.Count < max)
				{
					int remainingMs = (int)(deadline - DateTime.UtcNow).TotalMilliseconds;
					if (remainingMs <= 0)
						throw new VrevProtocolException("no complete WebSocket handshake within the handshake timeout");
					tcp.ReceiveTimeout = remainingMs;
					int n = s.Read(one, 0, 1);
					if (n <= 0)
						throw new EndOfStreamException("connection closed during the handshake");
					bytes.Add(one[0]);
					int c = bytes.Count;
					if (c >= 4 && bytes[c - 4] == '\r' && bytes[c - 3] == '\n' && bytes[c - 2] == '\r' && bytes[c - 1] == '\n')
						return Encoding.ASCII.GetString(bytes.ToArray());
				}
				throw new VrevProtocolException("HTTP header longer than " + max.ToString(CultureInfo.InvariantCulture) + " bytes");
			}
		}
	}
}

#region NinjaScript generated code. Neither change nor remove.

namespace NinjaTrader.NinjaScript.Indicators
{
	public partial class Indicator : NinjaTrader.Gui.NinjaScript.IndicatorRenderBase
	{
		private VrevPublisher[] cacheVrevPublisher;
		public VrevPublisher VrevPublisher()
		{
			return VrevPublisher(Input);
		}

		public VrevPublisher VrevPublisher(ISeries<double> input)
		{
			if (cacheVrevPublisher != null)
				for (int idx = 0; idx < cacheVrevPublisher.Length; idx++)
					if (cacheVrevPublisher[idx] != null &&  cacheVrevPublisher[idx].EqualsInput(input))
						return cacheVrevPublisher[idx];
			return CacheIndicator<VrevPublisher>(new VrevPublisher(), input, ref cacheVrevPublisher);
		}
	}
}

namespace NinjaTrader.NinjaScript.MarketAnalyzerColumns
{
	public partial class MarketAnalyzerColumn : MarketAnalyzerColumnBase
	{
		public Indicators.VrevPublisher VrevPublisher()
		{
			return indicator.VrevPublisher(Input);
		}

		public Indicators.VrevPublisher VrevPublisher(ISeries<double> input )
		{
			return indicator.VrevPublisher(input);
		}
	}
}

namespace NinjaTrader.NinjaScript.Strategies
{
	public partial class Strategy : NinjaTrader.Gui.NinjaScript.StrategyRenderBase
	{
		public Indicators.VrevPublisher VrevPublisher()
		{
			return indicator.VrevPublisher(Input);
		}

		public Indicators.VrevPublisher VrevPublisher(ISeries<double> input )
		{
			return indicator.VrevPublisher(input);
		}
	}
}

#endregion
