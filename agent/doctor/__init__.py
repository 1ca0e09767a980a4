"""``fiscal-agent doctor``: what is wrong, said plainly in Russian or English, with what to do.

Gathering (:mod:`agent.doctor.gather`) reads the facts: the running agent's health, or the
register itself through the agent's own driver when the agent is not running; the port, the
disk and the broker. The checks (:mod:`agent.doctor.checks`) are pure functions of those facts;
:mod:`agent.doctor.render` translates their findings (``locale/*.po``) and prints them.
"""
