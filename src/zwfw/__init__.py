"""zwfw — integrated online government-services platform (一体化在线政务服务平台)."""

__version__ = "0.1.0"
