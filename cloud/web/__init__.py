"""The support page (``GET /`` on the cloud): every club and agent at a glance.

:func:`add_support_page` adds its routes to the cloud's aiohttp application; what it shows is
computed by pure functions (cloud.web.board, cloud.web.pages) and rendered with Jinja2
templates in two languages (cloud.web.i18n).
"""

from cloud.web.routes import add_support_page

__all__ = ["add_support_page"]
