"""Latency of the sandbox through httpx.ASGITransport: median/p95 of detail and list GETs on the demo data."""

import statistics
import time

import anyio
import httpx

from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app


async def measure(client: httpx.AsyncClient, urls: list[str]) -> list[float]:
    timings: list[float] = []
    for url in urls:
        start = time.perf_counter()
        response = await client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return timings


def report(label: str, timings: list[float]) -> None:
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(f"{label:<28} n={len(timings):<4} median={statistics.median(timings):.3f} ms  p95={p95:.3f} ms")


async def main() -> None:
    app = create_app(seed="demo")
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as client:
        contacts = (await client.get("/api/contacts/")).json()["results"]
        deals = (await client.get("/api/opportunities/")).json()["results"]
        details = [f"/api/contacts/{contacts[i % len(contacts)]['id']}/" for i in range(250)]
        details += [f"/api/opportunities/{deals[i % len(deals)]['id']}/" for i in range(250)]
        lists = [f"/api/{name}/" for name in ("contacts", "opportunities", "tasks", "invoices")] * 50
        await measure(client, details[:50])
        report("detail GET (contact/deal)", await measure(client, details))
        report("list GET (20 per page)", await measure(client, lists))
        report("board GET", await measure(client, ["/api/deal-pipelines/board/"] * 100))


if __name__ == "__main__":
    anyio.run(main)
