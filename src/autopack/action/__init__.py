"""The GitHub Action (`autopack action`): the environment and event payloads GitHub provides
(pure models), the decision of what an event asks for (pure), who may ask (pure policy), the tracking
comment (pure rendering and parsing), and the runner that wires them to the adapters."""
