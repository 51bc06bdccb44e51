%% peer_bench: the Erlang/OTP side of gpubridge's actor benchmark race.
%%
%%   erl -noshell +P 2000000 -pa build/bench/erlang \
%%       -run peer_bench main WORKLOAD [ARGS...]
%%
%% Runs one workload on the default runtime (one scheduler per core) and
%% prints RESULT lines (see docs/benchmarks.md), then halts. The workloads
%% have the same semantics as bench/peers/caf and gpubridge's own actor
%% benchmark; scripts/bench-peers.sh runs each five times and takes medians.
%% +P raises the process limit (262144 by default) for activation_1m.
%%
%% Processes that are flooded by design (the many-to-one receiver, the
%% Counting counter, the Fork-Join workers, the activation sink) keep their
%% message queue off the heap, as the erlang:process_flag/2 documentation
%% advises for processes that may get many messages: with the default
%% (on_heap) every GC of a process that falls behind copies its whole queue,
%% and on a busy machine Fork-Join drops from ~4 M to ~0.4 M msg/s.
%% PEER_ERL_MQD=on_heap measures the default instead.
-module(peer_bench).
-export([main/1]).

-define(LIMIT_S, 20).

main([Workload | Args]) ->
    Ints = [list_to_integer(A) || A <- Args],
    try run(Workload, Ints) of
        ok -> erlang:halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "peer_bench: ~p:~p~n~p~n", [Class, Reason, Stack]),
            erlang:halt(1)
    end;
main([]) ->
    io:format(standard_error, "usage: peer_bench WORKLOAD [ARGS...]~n", []),
    erlang:halt(2).

run("pingpong", A) -> pingpong(arg(A, 1, 200000));
run("many_to_one", A) -> many_to_one(arg(A, 1, 1), arg(A, 2, 2000000));
run("fanout", A) -> fanout(arg(A, 1, 1000), arg(A, 2, 1000));
run("activation", A) -> activation(arg(A, 1, 100000), arg(A, 2, ?LIMIT_S));
run("external_call", A) -> external_call(arg(A, 1, 50000));
run("counting", A) -> counting(arg(A, 1, 2000000));
run("threadring", A) -> threadring(arg(A, 1, 100), arg(A, 2, 1000000));
run("chameneos", A) -> chameneos(arg(A, 1, 100), arg(A, 2, 200000));
run("big", A) -> big(arg(A, 1, 120), arg(A, 2, 5000));
run("fjthrput", A) -> fjthrput(arg(A, 1, 60), arg(A, 2, 10000));
run(W, _) -> erlang:error({unknown_workload, W}).

%% -- helpers ------------------------------------------------------------------

arg(A, I, _) when length(A) >= I -> lists:nth(I, A);
arg(_, _, Default) -> Default.

now_ns() -> erlang:monotonic_time(nanosecond).

result(Workload, Metric, Value) ->
    io:format("RESULT system=erlang workload=~s metric=~s value=~.1f~n",
              [Workload, Metric, float(Value)]).

%% Nearest-rank quantile of an unsorted list.
quantile(L, Q) ->
    S = lists:sort(L),
    lists:nth(round(Q * (length(S) - 1)) + 1, S).

print_latency(Workload, L) ->
    result(Workload, "median_ns", quantile(L, 0.5)),
    result(Workload, "p99_ns", quantile(L, 0.99)).

print_rate(Workload, Msgs, T0, T1) ->
    result(Workload, "msgs_per_s", Msgs / ((T1 - T0) / 1.0e9)).

size_name(N) when N >= 1000000, N rem 1000000 =:= 0 -> integer_to_list(N div 1000000) ++ "m";
size_name(N) when N >= 1000, N rem 1000 =:= 0 -> integer_to_list(N div 1000) ++ "k";
size_name(N) -> integer_to_list(N).

%% Waits for N `done` messages; returns the time the last one arrived.
wait_done(0) -> now_ns();
wait_done(N) -> receive done -> wait_done(N - 1) end.

%% spawn/1 for a process that is flooded by design (see the top of the file).
spawn_flooded(F) ->
    Mqd = case os:getenv("PEER_ERL_MQD") of
              "on_heap" -> on_heap;
              _ -> off_heap
          end,
    spawn_opt(F, [{message_queue_data, Mqd}]).

repeat(0, _) -> ok;
repeat(N, F) -> F(), repeat(N - 1, F).

%% -- ping-pong: each round trip timed individually by the pinger ---------------
%% (monotonic_time costs ~40 ns against a round trip of ~1 us; the first 10%
%% are warm-up.)

pingpong(N) ->
    Parent = self(),
    Warm = N div 10,
    Pong = spawn(fun pong_loop/0),
    spawn(fun() -> ping_loop(Pong, Parent, 1, Warm, N + Warm, []) end),
    receive {lat, L} -> print_latency("pingpong", L) end,
    Pong ! stop,
    ok.

pong_loop() ->
    receive
        {ping, From, I} -> From ! {pong, I}, pong_loop();
        stop -> ok
    end.

ping_loop(Pong, Parent, I, Warm, Total, Acc) ->
    T0 = now_ns(),
    Pong ! {ping, self(), I},
    receive {pong, I} -> ok end,
    T1 = now_ns(),
    Acc1 = if I > Warm -> [T1 - T0 | Acc]; true -> Acc end,
    if I =:= Total -> Parent ! {lat, Acc1};
       true -> ping_loop(Pong, Parent, I + 1, Warm, Total, Acc1)
    end.

%% -- many-to-one: S senders each send M messages to one receiver ---------------

many_to_one(S, M) ->
    Parent = self(),
    Rx = spawn_flooded(fun() -> rx_loop(S * M, Parent) end),
    Tx = [spawn(fun() -> receive go -> send_n(Rx, M) end end) || _ <- lists:seq(1, S)],
    T0 = now_ns(),
    [P ! go || P <- Tx],
    receive {done, T1} -> print_rate("many_to_one_" ++ integer_to_list(S), S * M, T0, T1) end.

rx_loop(0, Parent) -> Parent ! {done, now_ns()};
rx_loop(N, Parent) -> receive msg -> rx_loop(N - 1, Parent) end.

send_n(_, 0) -> ok;
send_n(Rx, M) -> Rx ! msg, send_n(Rx, M - 1).

%% -- fan-out/fan-in: one coordinator, W workers, R timed rounds -----------------

fanout(W, R) ->
    Parent = self(),
    spawn(fun() ->
                  Ws = [spawn(fun fan_worker/0) || _ <- lists:seq(1, W)],
                  L = fan_rounds(Ws, W, 0, R div 10, R + R div 10, []),
                  [P ! stop || P <- Ws],
                  Parent ! {lat, L}
          end),
    receive
        {lat, L} ->
            Med = quantile(L, 0.5),
            result("fanout", "round_us", Med / 1.0e3),
            result("fanout", "per_msg_ns", Med / (2 * W))
    end.

fan_worker() ->
    receive
        {req, From, Round} -> From ! {rep, Round}, fan_worker();
        stop -> ok
    end.

fan_rounds(_, _, Total, _, Total, Acc) -> Acc;
fan_rounds(Ws, W, Round, Warm, Total, Acc) ->
    T0 = now_ns(),
    Self = self(),
    [P ! {req, Self, Round} || P <- Ws],
    fan_gather(W, Round),
    T1 = now_ns(),
    Acc1 = if Round >= Warm -> [T1 - T0 | Acc]; true -> Acc end,
    fan_rounds(Ws, W, Round + 1, Warm, Total, Acc1).

fan_gather(0, _) -> ok;
fan_gather(N, Round) -> receive {rep, Round} -> fan_gather(N - 1, Round) end.

%% -- activation: one process spawns N processes and sends each a first message
%% naming the sink; each tells the sink `done` and exits. The clock runs from
%% the kick-off to the sink's N-th `done`; stops with "timeout" after Limit
%% seconds. The sink is not the spawner on purpose: `done`s piling up in the
%% mailbox of the busy spawner make each of its GCs copy the whole queue
%% (on-heap message queue), which is quadratic and measures that, not
%% activation.

activation(N, Limit) ->
    Parent = self(),
    Name = "activation_" ++ size_name(N),
    Sink = spawn_flooded(fun() -> Parent ! {act, wait_done(N)} end),
    Spawner = spawn(fun() ->
                            receive go -> ok end,
                            repeat(N, fun() -> spawn(fun act_child/0) ! {go, Sink} end)
                    end),
    T0 = now_ns(),
    Spawner ! go,
    receive
        {act, T1} -> result(Name, "ns_per_actor", (T1 - T0) / N)
    after Limit * 1000 ->
            io:format("RESULT system=erlang workload=~s metric=ns_per_actor value=timeout~n",
                      [Name])
    end.

act_child() -> receive {go, Sink} -> Sink ! done end.

%% -- external call: a caller outside the actors waits for each reply -----------
%% Erlang has no threads outside its processes (short of a NIF or a port
%% program), so the natural equivalent of CAF's scoped_actor is what
%% non-actor code does in Erlang: a process that is not otherwise part of the
%% system (here the shell process running main/1) calling a gen_server with
%% gen_server:call (monitor, unique reference, selective receive), each call
%% timed individually.

external_call(N) ->
    {ok, Echo} = peer_echo:start(),
    Warm = N div 10,
    L = call_loop(Echo, 0, Warm, N + Warm, []),
    gen_server:cast(Echo, stop),
    print_latency("external_call", L).

call_loop(_, Total, _, Total, Acc) -> Acc;
call_loop(Echo, I, Warm, Total, Acc) ->
    T0 = now_ns(),
    I = gen_server:call(Echo, {echo, I}, infinity),
    T1 = now_ns(),
    Acc1 = if I >= Warm -> [T1 - T0 | Acc]; true -> Acc end,
    call_loop(Echo, I + 1, Warm, Total, Acc1).

%% -- Savina Counting: a producer sends N increments, then asks for the count --

counting(N) ->
    Parent = self(),
    Counter = spawn_flooded(fun() -> counter_loop(0) end),
    Producer = spawn(fun() ->
                             receive go -> ok end,
                             send_n(Counter, inc, N),
                             Counter ! {get, self()},
                             receive {count, N} -> Parent ! {done, now_ns()} end
                     end),
    T0 = now_ns(),
    Producer ! go,
    receive {done, T1} -> print_rate("counting", N, T0, T1) end.

counter_loop(C) ->
    receive
        inc -> counter_loop(C + 1);
        {get, From} -> From ! {count, C}
    end.

send_n(_, _, 0) -> ok;
send_n(To, Msg, N) -> To ! Msg, send_n(To, Msg, N - 1).

%% -- Savina Thread Ring: a token passed around N processes for R hops --------

threadring(N, R) ->
    Parent = self(),
    Ring = [spawn(fun() -> receive {next, Next} -> ring_loop(Next, Parent) end end)
            || _ <- lists:seq(1, N)],
    [P ! {next, Q} || {P, Q} <- lists:zip(Ring, tl(Ring) ++ [hd(Ring)])],
    T0 = now_ns(),
    hd(Ring) ! {token, R},
    receive {done, T1} -> print_rate("threadring", R, T0, T1) end,
    [P ! stop || P <- Ring],
    ok.

ring_loop(Next, Parent) ->
    receive
        {token, 0} -> Parent ! {done, now_ns()}, ring_loop(Next, Parent);
        {token, K} -> Next ! {token, K - 1}, ring_loop(Next, Parent);
        stop -> ok
    end.

%% -- Savina Chameneos: C chameneos meet N times at a mall ---------------------

chameneos(C, N) ->
    Parent = self(),
    Mall = spawn(fun() -> mall_loop(none, 0, N, C, Parent) end),
    Cs = [spawn(fun() -> receive go -> chameneo_start(Mall, I rem 3) end end)
          || I <- lists:seq(0, C - 1)],
    T0 = now_ns(),
    [P ! go || P <- Cs],
    receive {done, T1} -> print_rate("chameneos", 4 * N + 3 * C, T0, T1) end.

mall_loop(Waiting, WColor, Left, Faded, Parent) ->
    receive
        {meet, From, _Color} when Left =:= 0 ->
            From ! exit,
            mall_loop(Waiting, WColor, Left, Faded, Parent);
        {meet, From, Color} when Waiting =:= none ->
            mall_loop(From, Color, Left, Faded, Parent);
        {meet, From, Color} ->
            Waiting ! {meet, Color, From},
            mall_loop(none, 0, Left - 1, Faded, Parent);
        faded when Faded =:= 1 ->
            Parent ! {done, now_ns()};
        faded ->
            mall_loop(Waiting, WColor, Left, Faded - 1, Parent)
    end.

chameneo_start(Mall, Color) ->
    Mall ! {meet, self(), Color},
    chameneo_loop(Mall, Color).

chameneo_loop(Mall, Color) ->
    receive
        {meet, OtherColor, Other} ->
            New = complement(Color, OtherColor),
            Other ! {change, New},
            Mall ! {meet, self(), New},
            chameneo_loop(Mall, New);
        {change, New} ->
            Mall ! {meet, self(), New},
            chameneo_loop(Mall, New);
        exit ->
            Mall ! faded
    end.

complement(A, A) -> A;
complement(A, B) -> 3 - A - B.

%% -- Savina Big: W processes each send P pings to random peers -----------------
%% The peer is chosen with minstd (Park-Miller), the generator every system
%% in the race uses, seeded with the worker's index + 1.

big(W, P) ->
    Parent = self(),
    Ws = [spawn(fun() -> receive {start, Peers} -> big_ping(Peers, W, I + 1, P, Parent) end end)
          || I <- lists:seq(0, W - 1)],
    Peers = list_to_tuple(Ws),
    T0 = now_ns(),
    [X ! {start, Peers} || X <- Ws],
    T1 = wait_done(W),
    print_rate("big", 2 * W * P, T0, T1),
    [X ! stop || X <- Ws],
    ok.

big_ping(Peers, W, Rng, Left, Parent) ->
    Rng1 = (Rng * 48271) rem 2147483647,
    element(Rng1 rem W + 1, Peers) ! {ping, self()},
    big_loop(Peers, W, Rng1, Left, Parent).

big_loop(Peers, W, Rng, Left, Parent) ->
    receive
        {ping, From} ->
            From ! pong,
            big_loop(Peers, W, Rng, Left, Parent);
        pong when Left =:= 1 ->
            Parent ! done,
            big_loop(Peers, W, Rng, 0, Parent);
        pong ->
            big_ping(Peers, W, Rng, Left - 1, Parent);
        stop ->
            ok
    end.

%% -- Savina Fork-Join throughput: N messages to each of A processes ------------
%% Each message carries theta (37.2) so the compiler cannot fold the sine.

fjthrput(A, N) ->
    Parent = self(),
    Ws = [spawn_flooded(fun() -> fj_worker(N, Parent) end) || _ <- lists:seq(1, A)],
    Producer = spawn(fun() -> receive go -> repeat(N, fun() -> [X ! {msg, 37.2} || X <- Ws] end) end end),
    T0 = now_ns(),
    Producer ! go,
    T1 = wait_done(A),
    print_rate("fjthrput", A * N, T0, T1).

fj_worker(0, Parent) -> Parent ! done;
fj_worker(N, Parent) ->
    receive
        {msg, Theta} ->
            S = math:sin(Theta),
            S * S > 0.0 orelse io:format(standard_error, "fjthrput: bad sine~n", []),
            fj_worker(N - 1, Parent)
    end.
