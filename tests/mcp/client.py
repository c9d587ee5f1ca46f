"""Drives a Sextant MCP server with the official Python MCP client (PyPI `mcp`, pinned in requirements.txt).

Usage:
  client.py stdio SEXTANT_BINARY ARGS...   # launches `SEXTANT_BINARY ARGS...` and talks over its stdin/stdout
  client.py http URL TOKEN                 # Streamable HTTP; also checks that a wrong token is refused

Prints one JSON object of observations on stdout (the Rust test in crates/sextant-cli/tests/mcp.rs asserts on
it); exits non-zero if the protocol itself fails.
"""

import asyncio
import json
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError


def text_of(result):
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def wait_until_indexed(session, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        status = await session.call_tool("status", {})
        repos = status.structured_content["repositories"]
        if repos and all(r["indexed"] for r in repos):
            return repos
        if time.monotonic() > deadline:
            raise TimeoutError(f"not indexed after {seconds}s: {text_of(status)}")
        await asyncio.sleep(0.1)


async def exercise(session, report, full):
    init = await session.initialize()
    report["server"] = init.server_info.name
    report["capabilities"] = {
        "tools": init.capabilities.tools is not None,
        "resources": init.capabilities.resources is not None,
    }
    tools = (await session.list_tools()).tools
    report["tools"] = sorted(t.name for t in tools)
    report["tools_with_output_schema"] = sorted(t.name for t in tools if t.output_schema)
    report["repositories"] = await wait_until_indexed(session)

    pack = await session.call_tool(
        "context_pack", {"task": "where are the settings loaded from a file?", "budget": 600}
    )
    report["pack"] = {
        "is_error": pack.is_error,
        "text_head": text_of(pack)[:400],
        "tokens": pack.structured_content["tokens"],
        "budget": pack.structured_content["budget"],
        "symbols": [i["symbol"] for i in pack.structured_content["items"]],
        "reasons": [i["reason"] for i in pack.structured_content["items"]],
    }
    search = await session.call_tool("search", {"query": "normalize path", "mode": "lexical", "limit": 5, "per_file": 0})
    report["search"] = {
        "is_error": search.is_error,
        "mode": search.structured_content["mode"],
        "hits": [(h["path"], h["symbol"]) for h in search.structured_content["hits"]],
    }
    if not full:
        return

    symbol = await session.call_tool("symbol", {"name": "load_settings"})
    report["symbol"] = symbol.structured_content["symbols"]
    pages, token = [], ""
    while True:
        args = {"name": "helper", "page_size": 2}
        if token:
            args["page_token"] = token
        page = await session.call_tool("references", args)
        pages.append(len(page.structured_content["references"]))
        token = page.structured_content["next_page_token"]
        report["references_total"] = page.structured_content["total"]
        if not token:
            break
    report["reference_pages"] = pages
    callers = await session.call_tool("callers", {"name": "normalize_path"})
    report["callers"] = [r["other"] for r in callers.structured_content["relations"]]
    read = await session.call_tool("read_file", {"path": "src/lib.rs", "start_line": 2, "end_line": 3})
    report["read_file"] = read.structured_content["text"]
    overview = await session.call_tool("overview", {})
    report["overview"] = {"is_error": overview.is_error, "modules": len(overview.structured_content["modules"])}

    progress = []

    async def on_progress(done, total, message):
        progress.append(message)

    reindex = await session.call_tool("reindex", {}, progress_callback=on_progress)
    if reindex.is_error or reindex.structured_content is None:
        raise RuntimeError(f"reindex failed: {text_of(reindex)}")
    report["reindex"] = {"is_error": reindex.is_error, "generation": reindex.structured_content["generation"]}
    report["progress_messages"] = progress

    resources = (await session.list_resources()).resources
    report["resources"] = sorted(str(r.uri) for r in resources)
    overview_uri = next(str(r.uri) for r in resources if str(r.uri).endswith("/overview"))
    contents = await session.read_resource(overview_uri)
    report["resource_text_head"] = contents.contents[0].text[:200]
    rule_uri = next((str(r.uri) for r in resources if "/rules/" in str(r.uri)), None)
    if rule_uri:
        report["rule_text"] = (await session.read_resource(rule_uri)).contents[0].text

    # Bad input: each is an error for that call only; the session keeps serving.
    bad = {}
    try:
        await session.call_tool("no_such_tool", {})
        bad["unknown_tool"] = "no error"
    except MCPError as e:
        bad["unknown_tool"] = e.error.message
    wrong_types = await session.call_tool("context_pack", {"task": 42, "budget": "lots"})
    bad["wrong_types"] = {"is_error": wrong_types.is_error, "text": text_of(wrong_types)}
    huge = await session.call_tool("context_pack", {"task": "x" * 300_000, "budget": 100})
    bad["huge_task"] = {"is_error": huge.is_error, "text": text_of(huge)}
    zero = await session.call_tool("context_pack", {"task": "settings", "budget": 0})
    bad["budget_zero"] = {"is_error": zero.is_error, "text": text_of(zero)}
    outside = await session.call_tool("read_file", {"path": "../../etc/passwd"})
    bad["outside_path"] = {"is_error": outside.is_error, "text": text_of(outside)}
    report["bad_input"] = bad
    after = await session.call_tool("symbol", {"name": "normalize_path"})
    report["serving_after_bad_input"] = not after.is_error and after.structured_content["total"] == 1


async def via_stdio(command, args):
    report = {"transport": "stdio"}
    params = StdioServerParameters(command=command, args=args)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await exercise(session, report, full=True)
    return report


def first_leaf(error):
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def via_http(url, token):
    report = {"transport": "http"}

    async def connect(bearer, full):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await exercise(session, report, full)

    await connect(token, full=False)
    for key, bearer in (("wrong_token", "wrong-" + token), ("no_token", None)):
        try:
            await asyncio.wait_for(connect(bearer, full=False), 30)
            report[key] = "accepted"
        except BaseException as error:  # an ExceptionGroup from the client's task groups
            leaf = first_leaf(error)
            report[key] = leaf.error.message if isinstance(leaf, MCPError) else repr(leaf)
    return report


def main():
    mode = sys.argv[1]
    if mode == "stdio":
        report = asyncio.run(via_stdio(sys.argv[2], sys.argv[3:]))
    else:
        report = asyncio.run(via_http(sys.argv[2], sys.argv[3]))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
