// TEST-ONLY interop smoke test of the publisher, run under mono by .ci/nt8.sh. Never copied to NinjaTrader.
//
// Drives the real VrevPublisher indicator through the stub (bars in New York local time, like
// NinjaTrader), and talks to it over loopback with mono's System.Net.WebSockets.ClientWebSocket
// and with a raw TCP client. Checks hello, history, resume after reconnect, live bars, ticks,
// ping/pong, RFC ping frames, bad handshakes, pong timeout and slow-client dropping.
// No check depends on how fast the machine is: every wait is for a condition (a message, a log
// line, a counter), bounded by a generous timeout that only matters when something is broken
// (Patience); a watchdog ends the process after 300 s.
// Usage: mono FeedHarness.exe            Exit code = number of failed checks.
//        mono FeedHarness.exe --serve PORT LIVE_BARS [STOP_FILE]   (see Serve)

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NinjaTrader.Data;
using NinjaTrader.NinjaScript;
using NinjaTrader.NinjaScript.Indicators;
using Feed = NinjaTrader.NinjaScript.Indicators.VrevFeed;

public static class FeedHarness
{
	private static int passed;
	private static int failed;

	/// <summary>Bound of every wait for something that must happen (a message, a log line, a counter).</summary>
	private const int PatienceMs = 30000;

	public static int Main(string[] args)
	{
		Thread watchdog = new Thread(() =>
		{
			Thread.Sleep(300000);
			Console.WriteLine("FAIL watchdog: harness still running after 300 s");
			Environment.Exit(100);
		});
		watchdog.IsBackground = true;
		watchdog.Start();

		CultureInfo de = new CultureInfo("de-DE");
		Thread.CurrentThread.CurrentCulture = de;
		CultureInfo.DefaultThreadCurrentCulture = de;

		if ((args.Length == 3 || args.Length == 4) && args[0] == "--serve")
			return Serve(int.Parse(args[1], CultureInfo.InvariantCulture), Math.Min(200, int.Parse(args[2], CultureInfo.InvariantCulture)), args.Length == 4 ? args[3] : null);

		try
		{
			Step("indicator end to end over ClientWebSocket", IndicatorEndToEnd);
			Step("raw protocol: RFC ping frame, close frame, bad handshake", RawProtocol);
			Step("slow client is dropped with one log line", SlowClient);
			Step("admission: handshake timeout, per-address cap, browser origin, token, exposure", Admission);
		}
		catch (Exception ex)
		{
			failed++;
			Console.WriteLine("FAIL unexpected: " + ex);
		}
		Console.WriteLine("feed harness: " + passed + " passed, " + failed + " failed");
		return failed;
	}

	/// <summary>
	/// Standalone server for testing a client (used by .ci/nt8.sh with vrev record): 10 history
	/// bars (2025-02-13 18:50-18:59 UTC); once a client has subscribed, one live bar per second
	/// for liveBars bars (18:59 + 1 min, + 2 min, ...). Without a stop file it then exits, dropping
	/// the connection; with one it keeps serving until that file exists. Every step waits for its
	/// condition, not for a time: a slow machine only makes it slower. Exit code 0, or 2 when no
	/// client subscribed / the stop file did not appear within 240 s, 3 when the port stays taken.
	/// </summary>
	private static int Serve(int port, int liveBars, string stopFile)
	{
		const int serveWaitMs = 240000;
		Feed.VrevHistoryBuffer h = new Feed.VrevHistoryBuffer(1000);
		Feed.VrevFeedOptions o = new Feed.VrevFeedOptions();
		o.Port = port;
		o.Instrument = "ES 03-25";
		DateTime t = new DateTime(2025, 2, 13, 18, 50, 0, DateTimeKind.Utc);
		for (int i = 0; i < 10; i++)
			h.Add(new Feed.VrevBar(t.AddMinutes(i), 6100 + i, 6101 + i, 6099 + i, 6100.25 + i, 100 + i));
		ManualResetEvent subscribed = new ManualResetEvent(false);
		Action<string> log = m =>
		{
			Console.WriteLine("server: " + m);
			Console.Out.Flush(); // the CI script waits for these lines in a redirected file
			if (m.Contains(" subscribed after "))
				subscribed.Set();
		};
		using (Feed.VrevFeedServer server = new Feed.VrevFeedServer(o, h, log))
		{
			// A previous server on the same port may have just exited: retry the bind for a while.
			DateTime bindDeadline = DateTime.UtcNow.AddMilliseconds(PatienceMs);
			while (true)
			{
				try
				{
					server.Start();
					break;
				}
				catch (SocketException ex)
				{
					if (DateTime.UtcNow > bindDeadline)
					{
						log("cannot listen on port " + port.ToString(CultureInfo.InvariantCulture) + ": " + ex.Message);
						return 3;
					}
					Thread.Sleep(100);
				}
			}
			if (!subscribed.WaitOne(serveWaitMs))
			{
				log("no client subscribed within " + (serveWaitMs / 1000).ToString(CultureInfo.InvariantCulture) + " s");
				return 2;
			}
			for (int i = 10; i < 10 + liveBars; i++)
			{
				Thread.Sleep(1000); // pacing only (live bars a second apart, like a fast chart); nothing waits on it
				server.Publish(new Feed.VrevBar(t.AddMinutes(i), 6100 + i, 6101 + i, 6099 + i, 6100.25 + i, 100 + i), true);
			}
			log("published " + liveBars.ToString(CultureInfo.InvariantCulture) + " live bars");
			if (stopFile != null)
			{
				DateTime stopDeadline = DateTime.UtcNow.AddMilliseconds(serveWaitMs);
				while (!File.Exists(stopFile))
				{
					if (DateTime.UtcNow > stopDeadline)
					{
						log("stop file " + stopFile + " did not appear within " + (serveWaitMs / 1000).ToString(CultureInfo.InvariantCulture) + " s");
						return 2;
					}
					Thread.Sleep(50);
				}
			}
		}
		return 0;
	}

	private static void Step(string name, Action a)
	{
		int before = failed;
		Console.WriteLine("-- " + name);
		try { a(); }
		catch (Exception ex)
		{
			failed++;
			Console.WriteLine("  FAIL exception: " + ex);
		}
		Console.WriteLine((failed == before ? "ok   " : "FAIL ") + name);
	}

	private static void Check(string what, bool ok)
	{
		if (ok) passed++;
		else
		{
			failed++;
			Console.WriteLine("  check failed: " + what);
		}
	}

	private static void Eq(string what, string expected, string actual)
	{
		if (expected == actual) passed++;
		else
		{
			failed++;
			Console.WriteLine("  check failed: " + what + "\n    expected: " + expected + "\n    actual:   " + actual);
		}
	}

	/// <summary>Waits until cond() holds; false if it still does not after timeoutMs.</summary>
	private static bool WaitUntil(Func<bool> cond, int timeoutMs)
	{
		DateTime deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
		while (!cond())
		{
			if (DateTime.UtcNow > deadline)
				return false;
			Thread.Sleep(20);
		}
		return true;
	}

	private static bool Logged(List<string> log, string part)
	{
		lock (log)
			return log.Any(l => l.Contains(part));
	}

	private static DateTime Local(string s)
	{
		return DateTime.SpecifyKind(DateTime.ParseExact(s, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), DateTimeKind.Unspecified);
	}

	private static string BarJson(string type, string utc, double o, double h, double l, double c, long v)
	{
		return "{\"type\":\"" + type + "\",\"symbol\":\"ES 03-25\",\"open\":" + Num(o) + ",\"high\":" + Num(h) + ",\"low\":" + Num(l)
			+ ",\"close\":" + Num(c) + ",\"volume\":" + v.ToString(CultureInfo.InvariantCulture) + ",\"timestamp\":\"" + utc + "\"}";
	}

	private static string Num(double d)
	{
		string s = d.ToString("0.0#######", CultureInfo.InvariantCulture);
		return s;
	}

	// ------------------------------------------------------------------ ClientWebSocket helpers

	private sealed class WsClient : IDisposable
	{
		public readonly ClientWebSocket Ws = new ClientWebSocket();
		public bool AnswerPings = true;
		public int PingsSeen;
		public string Error;

		public void Connect(int port)
		{
			using (CancellationTokenSource cts = new CancellationTokenSource(PatienceMs))
				Ws.ConnectAsync(new Uri("ws://127.0.0.1:" + port + "/"), cts.Token).Wait();
		}

		public void Send(string text)
		{
			byte[] b = Encoding.UTF8.GetBytes(text);
			using (CancellationTokenSource cts = new CancellationTokenSource(PatienceMs))
				Ws.SendAsync(new ArraySegment<byte>(b), WebSocketMessageType.Text, true, cts.Token).Wait();
		}

		/// <summary>Next text message that is not "ping" (pings are answered), or null after timeoutMs.</summary>
		public string Receive(int timeoutMs)
		{
			DateTime deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
			while (true)
			{
				int left = (int)(deadline - DateTime.UtcNow).TotalMilliseconds;
				if (left <= 0)
					return null;
				string msg = ReceiveRaw(left);
				if (msg == null)
					return null;
				if (msg == "ping")
				{
					PingsSeen++;
					if (AnswerPings)
						Send("pong");
					continue;
				}
				return msg;
			}
		}

		private readonly byte[] buf = new byte[8192];
		private readonly MemoryStream partial = new MemoryStream();
		private Task<WebSocketReceiveResult> pending; // a receive that outlived a timeout is reused

		private string ReceiveRaw(int timeoutMs)
		{
			DateTime deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
			while (true)
			{
				if (pending == null)
					pending = Ws.ReceiveAsync(new ArraySegment<byte>(buf), CancellationToken.None);
				int left = Math.Max(0, (int)(deadline - DateTime.UtcNow).TotalMilliseconds);
				try
				{
					if (!pending.Wait(left))
						return null;
				}
				catch (AggregateException ex)
				{
					pending = null;
					Error = ex.InnerException != null ? ex.InnerException.Message : ex.Message;
					return null; // connection closed by the server (e.g. dropped)
				}
				WebSocketReceiveResult r = pending.Result;
				pending = null;
				if (r.MessageType == WebSocketMessageType.Close)
					return null;
				partial.Write(buf, 0, r.Count);
				if (r.EndOfMessage)
				{
					string text = Encoding.UTF8.GetString(partial.ToArray());
					partial.SetLength(0);
					return text;
				}
			}
		}

		public void Close()
		{
			try
			{
				using (CancellationTokenSource cts = new CancellationTokenSource(3000))
					Ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token).Wait();
			}
			catch (Exception) { }
		}

		public void Dispose()
		{
			try { Ws.Abort(); } catch (Exception) { }
			try { Ws.Dispose(); } catch (Exception) { }
		}
	}

	// ------------------------------------------------------------------ steps

	private static void IndicatorEndToEnd()
	{
		VrevPublisher p = new VrevPublisher();
		p.TestHookSetState(State.SetDefaults);
		p.Port = 0; // an ephemeral port chosen by the OS, read back from the "listening on" line
		p.ChartTimeZoneId = "America/New_York";
		p.PingIntervalSeconds = 1;
		p.PongTimeoutSeconds = 5;
		p.SendTicks = true;
		p.TestHookSetInstrument("ES 03-25", "ES", 0.25, 50.0);
		p.TestHookSetState(State.Configure);
		p.TestHookSetState(State.DataLoaded);
		p.TestHookSetState(State.Historical);
		// Five historical bars, New York local time like NinjaTrader on a PC in that zone.
		double[] closes = { 6100.25, 6101.5, 6099.75, 6102.0, 6107.0 };
		List<string> expectedHistory = new List<string>();
		for (int i = 0; i < 5; i++)
		{
			double c = closes[i];
			p.TestHookBar(Local("2025-02-13 13:5" + (5 + i) + ":00"), c - 0.25, c + 1.0, c - 1.25, c, 100 + i);
			expectedHistory.Add(BarJson("historical_bar", "2025-02-13T18:5" + (5 + i) + ":00.000Z", c - 0.25, c + 1.0, c - 1.25, c, 100 + i));
		}
		p.TestHookSetState(State.Transition);
		p.TestHookSetState(State.Realtime);
		string listening = p.TestHookOutputSnapshot().FirstOrDefault(l => l.Contains("listening on ws://127.0.0.1:"));
		Check("listening line logged", listening != null);
		int port;
		if (listening == null || !int.TryParse(listening.Substring(listening.LastIndexOf(':') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port <= 0)
			throw new InvalidOperationException("no port in the listening line: " + listening);

		// Client A: all history, then a live bar, answering pings.
		using (WsClient a = new WsClient())
		{
			a.Connect(port);
			Eq("hello first", "{\"type\":\"hello\",\"protocol\":1,\"instrument\":\"ES 03-25\",\"bar_period_seconds\":60,\"tick_size\":0.25,\"point_value\":50.0}", a.Receive(PatienceMs));
			a.Send("{\"type\":\"subscribe\",\"after\":null}");
			Eq("historical_start", "{\"type\":\"historical_start\",\"count\":5}", a.Receive(PatienceMs));
			for (int i = 0; i < 5; i++)
				Eq("history bar " + i, expectedHistory[i], a.Receive(PatienceMs));
			Eq("historical_end", "{\"type\":\"historical_end\",\"sent\":5}", a.Receive(PatienceMs));
			p.TestHookBar(Local("2025-02-13 14:00:00"), 6107.0, 6108.25, 6106.5, 6108.0, 321);
			Eq("live bar in UTC", BarJson("bar", "2025-02-13T19:00:00.000Z", 6107.0, 6108.25, 6106.5, 6108.0, 321), a.Receive(PatienceMs));
			// Stay connected past the pong timeout (5 s) while answering pings: idle until at
			// least 3 pings were answered and more than the pong timeout has passed.
			DateTime idleStart = DateTime.UtcNow;
			string extra = null;
			while (extra == null && (a.PingsSeen < 3 || (DateTime.UtcNow - idleStart).TotalSeconds < 6)
				&& (DateTime.UtcNow - idleStart).TotalMilliseconds < PatienceMs && a.Ws.State == WebSocketState.Open)
				extra = a.Receive(250);
			Check("nothing else arrives while idle (got " + extra + ")", extra == null);
			Check("text pings received (" + a.PingsSeen + ")", a.PingsSeen >= 3);
			Check("answering pong keeps the client connected", a.Ws.State == WebSocketState.Open);
			Check("no drop logged for A", !p.TestHookOutputSnapshot().Any(l => l.Contains("dropped")));
			a.Close();
		}

		// Bars while nobody is connected.
		p.TestHookBar(Local("2025-02-13 14:01:00"), 6108.0, 6108.5, 6107.75, 6108.25, 50);
		p.TestHookBar(Local("2025-02-13 14:02:00"), 6108.25, 6109.0, 6108.0, 6108.75, 60);

		// Client C resumes after the last bar A received: only the gap, no duplicates.
		using (WsClient c = new WsClient())
		{
			c.Connect(port);
			Check("hello again", (c.Receive(PatienceMs) ?? "").StartsWith("{\"type\":\"hello\""));
			c.Send("{\"type\":\"subscribe\",\"after\":\"2025-02-13T19:00:00Z\"}");
			Eq("resume start", "{\"type\":\"historical_start\",\"count\":2}", c.Receive(PatienceMs));
			Eq("gap bar 1", BarJson("historical_bar", "2025-02-13T19:01:00.000Z", 6108.0, 6108.5, 6107.75, 6108.25, 50), c.Receive(PatienceMs));
			Eq("gap bar 2", BarJson("historical_bar", "2025-02-13T19:02:00.000Z", 6108.25, 6109.0, 6108.0, 6108.75, 60), c.Receive(PatienceMs));
			Eq("resume end", "{\"type\":\"historical_end\",\"sent\":2}", c.Receive(PatienceMs));
			p.TestHookBar(Local("2025-02-13 14:03:00"), 6108.75, 6109.5, 6108.5, 6109.25, 70);
			Eq("live after resume", BarJson("bar", "2025-02-13T19:03:00.000Z", 6108.75, 6109.5, 6108.5, 6109.25, 70), c.Receive(PatienceMs));
			p.TestHookBar(Local("2025-02-13 14:03:00"), 1, 1, 1, 1, 1); // duplicate time: never published
			p.TestHookMarketData(MarketDataType.Last, 6109.5, 3, Local("2025-02-13 14:03:01").AddMilliseconds(500));
			Eq("tick (duplicate bar skipped)", "{\"type\":\"tick\",\"symbol\":\"ES 03-25\",\"price\":6109.5,\"volume\":3,\"timestamp\":\"2025-02-13T19:03:01.500Z\"}", c.Receive(PatienceMs));
			// A bid update must not become a tick: the next message is the following last trade.
			p.TestHookMarketData(MarketDataType.Bid, 6109.25, 3, Local("2025-02-13 14:03:02"));
			p.TestHookMarketData(MarketDataType.Last, 6109.75, 2, Local("2025-02-13 14:03:03"));
			Eq("bid updates are not ticks", "{\"type\":\"tick\",\"symbol\":\"ES 03-25\",\"price\":6109.75,\"volume\":2,\"timestamp\":\"2025-02-13T19:03:03.000Z\"}", c.Receive(PatienceMs));
			c.Close();
		}

		// Client D never subscribes: full history after the 2 s wait.
		using (WsClient d = new WsClient())
		{
			DateTime t0 = DateTime.UtcNow;
			d.Connect(port);
			Check("hello", (d.Receive(PatienceMs) ?? "").Contains("\"hello\""));
			string start = d.Receive(PatienceMs);
			double waited = (DateTime.UtcNow - t0).TotalSeconds;
			Eq("no subscribe: whole history", "{\"type\":\"historical_start\",\"count\":9}", start);
			// At least the 2 s wait (the server starts it after the handshake, after t0), and
			// clearly not the 10 s socket read timeout (the upper bound is for a broken wait only).
			Check("history came after the ~2 s subscribe wait (" + waited.ToString("0.00", CultureInfo.InvariantCulture) + " s)", waited >= 1.8 && waited < 9.5);
			int bars = 0;
			string msg;
			while ((msg = d.Receive(PatienceMs)) != null && msg.Contains("historical_bar"))
				bars++;
			Check("9 history bars", bars == 9);
			Eq("end", "{\"type\":\"historical_end\",\"sent\":9}", msg);
			d.Close();
		}

		// Client B never answers pings: dropped after the pong timeout, with one log line.
		using (WsClient b = new WsClient())
		{
			b.AnswerPings = false;
			b.Connect(port);
			b.Send("{\"type\":\"subscribe\",\"after\":\"2025-02-13T19:03:00Z\"}");
			DateTime deadline = DateTime.UtcNow.AddMilliseconds(PatienceMs);
			while (DateTime.UtcNow < deadline && !p.TestHookOutputSnapshot().Any(l => l.Contains("dropped: no pong")))
				b.Receive(250);
			// The server closes the socket right after logging: B sees it on its next read.
			WaitUntil(() => { b.Receive(250); return b.Error != null || b.Ws.State != WebSocketState.Open; }, PatienceMs);
			Check("B's connection was closed by the server (" + b.Error + ")", b.Error != null || b.Ws.State != WebSocketState.Open);
			Eq("one pong-timeout line", "1", p.TestHookOutputSnapshot().Count(l => l.Contains("dropped: no pong within 5 s")).ToString(CultureInfo.InvariantCulture));
		}

		p.TestHookSetState(State.Terminated);
		Check("stopped line logged", p.TestHookOutputSnapshot().Any(l => l.Contains("stopped")));
		bool refused = false;
		try
		{
			using (TcpClient t = new TcpClient())
				t.Connect(IPAddress.Loopback, port);
		}
		catch (SocketException) { refused = true; }
		Check("port closed after State.Terminated", refused);
	}

	// ------------------------------------------------------------------ raw socket helpers

	private static NetworkStream RawConnect(int port, out TcpClient tcp, out string response)
	{
		tcp = new TcpClient();
		tcp.ReceiveTimeout = PatienceMs;
		tcp.SendTimeout = PatienceMs;
		tcp.Connect(IPAddress.Loopback, port);
		NetworkStream s = tcp.GetStream();
		byte[] req = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
		s.Write(req, 0, req.Length);
		response = ReadHeader(s);
		return s;
	}

	private static string RawHandshake(int port, string extraHeaders, string target)
	{
		using (TcpClient tcp = new TcpClient())
		{
			tcp.ReceiveTimeout = PatienceMs;
			tcp.Connect(IPAddress.Loopback, port);
			NetworkStream s = tcp.GetStream();
			byte[] req = Encoding.ASCII.GetBytes("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n");
			s.Write(req, 0, req.Length);
			return ReadHeader(s);
		}
	}

	/// <summary>
	/// Issue 24: 16 idle half-handshakes once locked vrev out, any Origin was accepted, and the
	/// publisher bound 0.0.0.0 with only a "listening" line.
	/// </summary>
	private static void Admission()
	{
		Feed.VrevHistoryBuffer h = new Feed.VrevHistoryBuffer(100);
		List<string> log = new List<string>();
		Feed.VrevFeedOptions o = new Feed.VrevFeedOptions();
		o.Port = 0;
		o.Instrument = "ES 03-25";
		o.PingIntervalSeconds = 60;
		o.SubscribeWaitMilliseconds = 300;
		o.HandshakeTimeoutMilliseconds = 500;
		o.MaxClientsPerAddress = 4;
		o.Token = "s3cret";
		o.AllowedOrigins = "http://localhost:3000";
		using (Feed.VrevFeedServer server = new Feed.VrevFeedServer(o, h, m => { lock (log) log.Add(m); }))
		{
			server.Start();
			int port = server.BoundPort;
			List<TcpClient> idle = new List<TcpClient>();
			for (int i = 0; i < 4; i++)
			{
				TcpClient t = new TcpClient();
				t.Connect(IPAddress.Loopback, port);
				idle.Add(t);
			}
			Check("four idle sockets held", WaitUntil(() => server.ClientCount == 4, PatienceMs));
			using (TcpClient fifth = new TcpClient())
			{
				fifth.ReceiveTimeout = PatienceMs;
				fifth.Connect(IPAddress.Loopback, port);
				int b = -2;
				try { b = fifth.GetStream().ReadByte(); } catch (IOException) { b = -1; }
				Check("a fifth socket from the same address is closed at once", b == -1);
			}
			Check("idle half-handshakes dropped after the handshake timeout", WaitUntil(() => server.ClientCount == 0, PatienceMs));
			foreach (TcpClient t in idle)
				t.Close();
			Check("no token: 401", RawHandshake(port, "", "/").StartsWith("HTTP/1.1 401"));
			Check("wrong token: 401", RawHandshake(port, "X-Vrev-Token: nope\r\n", "/").StartsWith("HTTP/1.1 401"));
			Check("token header: 101", RawHandshake(port, "X-Vrev-Token: s3cret\r\n", "/").StartsWith("HTTP/1.1 101"));
			Check("token query: 101", RawHandshake(port, "", "/?token=s3cret").StartsWith("HTTP/1.1 101"));
			Check("foreign browser origin: 403", RawHandshake(port, "Origin: https://evil.example\r\nX-Vrev-Token: s3cret\r\n", "/").StartsWith("HTTP/1.1 403"));
			Check("allowed origin: 101", RawHandshake(port, "Origin: http://localhost:3000\r\nX-Vrev-Token: s3cret\r\n", "/").StartsWith("HTTP/1.1 101"));
		}
		Check("no exposure warning on 127.0.0.1", Feed.VrevWebSocket.ExposureWarning("127.0.0.1", false) == null);
		string w = Feed.VrevWebSocket.ExposureWarning("0.0.0.0", false);
		Check("0.0.0.0 warns naming all interfaces and the token", w != null && w.Contains("all interfaces") && w.Contains("Token"));
	}

	private static string ReadHeader(Stream s)
	{
		StringBuilder sb = new StringBuilder();
		while (!sb.ToString().EndsWith("\r\n\r\n"))
		{
			int b = s.ReadByte();
			if (b < 0) break;
			sb.Append((char)b);
		}
		return sb.ToString();
	}

	private static void SendClientFrame(Stream s, byte opcode, byte[] payload)
	{
		byte[] f = Feed.VrevWebSocket.EncodeFrame(opcode, payload, new byte[] { 0x12, 0x34, 0x56, 0x78 });
		s.Write(f, 0, f.Length);
	}

	private static Feed.VrevFrame ReadServerFrame(Stream s, Func<Feed.VrevFrame, bool> skip)
	{
		while (true)
		{
			Feed.VrevFrame f = Feed.VrevWebSocket.ReadFrame(s, 1 << 20, false);
			if (f == null || !skip(f))
				return f;
		}
	}

	private static void RawProtocol()
	{
		Feed.VrevHistoryBuffer h = new Feed.VrevHistoryBuffer(100);
		List<string> log = new List<string>();
		Feed.VrevFeedOptions o = new Feed.VrevFeedOptions();
		o.Port = 0;
		o.Instrument = "ES 03-25";
		o.PingIntervalSeconds = 60;
		o.SubscribeWaitMilliseconds = 300;
		using (Feed.VrevFeedServer server = new Feed.VrevFeedServer(o, h, m => { lock (log) log.Add(m); }))
		{
			server.Start();
			int port = server.BoundPort;
			Check("ephemeral port bound", port > 0);

			TcpClient tcp;
			string resp;
			NetworkStream s = RawConnect(port, out tcp, out resp);
			using (tcp)
			{
				Check("101 with the RFC accept key", resp.StartsWith("HTTP/1.1 101") && resp.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
				Feed.VrevFrame hello = ReadServerFrame(s, f => false);
				Check("server frames are unmasked text", hello != null && hello.Opcode == 1 && hello.Fin && Encoding.UTF8.GetString(hello.Payload).Contains("\"hello\""));
				SendClientFrame(s, Feed.VrevWebSocket.OpPing, Encoding.ASCII.GetBytes("abc"));
				Feed.VrevFrame pong = ReadServerFrame(s, f => f.Opcode == 1);
				Check("RFC ping answered by a pong with the same payload", pong != null && pong.Opcode == 0xA && Encoding.ASCII.GetString(pong.Payload) == "abc");
				// A text "pong" split across two frames is reassembled and counted.
				byte[] f1 = Feed.VrevWebSocket.EncodeFrame(1, Encoding.ASCII.GetBytes("po"), new byte[] { 1, 2, 3, 4 });
				f1[0] = 0x01; // FIN cleared
				s.Write(f1, 0, f1.Length);
				SendClientFrame(s, 0x0, Encoding.ASCII.GetBytes("ng"));
				WaitUntil(() => server.PongsReceived >= 1, PatienceMs);
				Check("fragmented text pong counted", server.PongsReceived == 1);
				SendClientFrame(s, Feed.VrevWebSocket.OpClose, new byte[] { 0x03, 0xE8 });
				Feed.VrevFrame close = ReadServerFrame(s, f => f.Opcode != 0x8);
				Check("close echoed with status 1000", close != null && close.Opcode == 0x8 && close.Payload.Length == 2 && close.Payload[0] == 0x03 && close.Payload[1] == 0xE8);
			}

			// Unmasked client frame: protocol error, connection closed.
			s = RawConnect(port, out tcp, out resp);
			using (tcp)
			{
				ReadServerFrame(s, f => false);
				byte[] unmasked = Feed.VrevWebSocket.EncodeText("{\"type\":\"subscribe\"}");
				s.Write(unmasked, 0, unmasked.Length);
				Feed.VrevFrame f2 = null;
				try { f2 = ReadServerFrame(s, f => f.Opcode != 0x8); } catch (IOException) { }
				Check("unmasked client frame closed with 1002", f2 == null || (f2.Opcode == 0x8 && f2.Payload.Length == 2 && f2.Payload[1] == 0xEA));
			}

			// Plain HTTP request: 400 and closed.
			using (TcpClient plain = new TcpClient())
			{
				plain.ReceiveTimeout = PatienceMs;
				plain.Connect(IPAddress.Loopback, port);
				NetworkStream ps = plain.GetStream();
				byte[] req = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
				ps.Write(req, 0, req.Length);
				Check("plain HTTP gets 400", ReadHeader(ps).StartsWith("HTTP/1.1 400"));
			}
			// Each refused or closed client removes itself on its own thread: wait for that.
			Check("no client left (" + server.ClientCount + ")", WaitUntil(() => server.ClientCount == 0, PatienceMs));
		}
		lock (log)
			Check("handshake refusal logged", log.Any(l => l.Contains("handshake refused")));
	}

	private static void SlowClient()
	{
		Feed.VrevHistoryBuffer h = new Feed.VrevHistoryBuffer(1000);
		List<string> log = new List<string>();
		Feed.VrevFeedOptions o = new Feed.VrevFeedOptions();
		o.Port = 0;
		o.Instrument = "ES 03-25";
		o.MaxQueuedMessages = 100;
		o.PingIntervalSeconds = 60;
		using (Feed.VrevFeedServer server = new Feed.VrevFeedServer(o, h, m => { lock (log) log.Add(m); }))
		{
			server.Start();
			TcpClient tcp;
			string resp;
			NetworkStream s = RawConnect(server.BoundPort, out tcp, out resp);
			using (tcp)
			{
				tcp.ReceiveBufferSize = 4096;
				SendClientFrame(s, 1, Encoding.UTF8.GetBytes("{\"type\":\"subscribe\",\"after\":null}"));
				// Only a subscribed client gets live bars: wait for the subscription before publishing.
				if (!WaitUntil(() => Logged(log, "subscribed"), PatienceMs))
					throw new InvalidOperationException("the slow client never subscribed");
				// The client never reads. Publish live bars until the server gives up on it.
				DateTime t = new DateTime(2025, 2, 13, 19, 0, 0, DateTimeKind.Utc);
				int published = 0;
				DateTime deadline = DateTime.UtcNow.AddMilliseconds(PatienceMs);
				while (server.ClientsDropped == 0 && DateTime.UtcNow < deadline)
				{
					server.Publish(new Feed.VrevBar(t.AddMinutes(published), 6100, 6101, 6099, 6100.5, published), true);
					published++;
					if (published % 1000 == 0)
						Thread.Sleep(1);
				}
				Check("slow client dropped (after " + published + " bars)", server.ClientsDropped == 1);
				Check("client removed", WaitUntil(() => server.ClientCount == 0, PatienceMs));
				for (int i = 0; i < 50; i++)
					server.Publish(new Feed.VrevBar(t.AddMinutes(published + i), 6100, 6101, 6099, 6100.5, 1), true);
				Check("history stays bounded (" + server.History.Count + ")", server.History.Count == Math.Min(1000, published + 50));
			}
		}
		lock (log)
		{
			int lines = log.Count(l => l.Contains("dropped"));
			Check("exactly one drop line (" + lines + "): " + string.Join(" | ", log.Where(l => l.Contains("dropped")).ToArray()), lines == 1 && log.Any(l => l.Contains("dropped: send queue exceeded 100 messages")));
		}
	}
}
