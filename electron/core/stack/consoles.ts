// The stack's web consoles: the only pages Makerdeck links to, and so the only ones the Electron app
// opens in the user's browser (electron/main/policy/consoleLink.ts).

/** Per service: the console's label and its port, which stack/compose.yaml publishes on 127.0.0.1 as is. */
export const STACK_CONSOLES: Readonly<Record<string, { label: string; port: number }>> = {
  rabbitmq: { label: 'RabbitMQ console', port: 15672 },
  grafana: { label: 'Grafana', port: 3000 },
  chronograf: { label: 'Chronograf', port: 8888 },
  portainer: { label: 'Portainer', port: 9000 },
};
