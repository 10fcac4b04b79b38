"""Where residents live (their units) and what they asked about notices: statements such as
"我住3栋2单元502", confirmed once, and "退订通知" / "unsubscribe"."""
