import { Component, type ReactNode } from 'react';

/** A page that throws shows what broke instead of a blank window; the other pages keep working. */
export class PageErrorBoundary extends Component<{ page: string; children: ReactNode }, { error?: Error }> {
  override state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidUpdate(previous: { page: string }) {
    if (previous.page !== this.props.page && this.state.error) this.setState({ error: undefined });
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <p className="error" role="alert">
        This page stopped working ({this.state.error.message}). Open another page, or reload the window.
      </p>
    );
  }
}
