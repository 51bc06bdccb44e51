%% The gen_server the external_call workload calls: replies with what it
%% gets. Kept in its own module because gen_server wants a callback module.
-module(peer_echo).
-behaviour(gen_server).
-export([start/0, init/1, handle_call/3, handle_cast/2]).

start() -> gen_server:start(?MODULE, [], []).

init([]) -> {ok, nostate}.

handle_call({echo, X}, _From, S) -> {reply, X, S}.

handle_cast(stop, S) -> {stop, normal, S}.
