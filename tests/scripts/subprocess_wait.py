import asyncio
import sys


async def main():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "print('child says hi')",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    print(out.decode().strip())


asyncio.run(main())
