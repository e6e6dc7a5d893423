"""The board's routes, one module per group of pages: auth (sign in and out),
visits (the list, a visit's page, its files), solve (planning runs), moves
(the board, moves and pins) and publish (changes, publishing, sending).
Each is a plain ``async def page(request)``; planner.web.app declares them."""
