"""Channel gateways (see :class:`services.dispatch.ports.ChannelGateway`), one module each."""
