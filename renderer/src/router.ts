// Pages are addressed by the URL hash (#/doctor) so the app works from app:// and any HTTP path.
import { useEffect, useState, type ComponentType } from 'react';
import { DoctorPage } from './pages/DoctorPage';
import { FirmwarePage } from './pages/FirmwarePage';
import { HomePage } from './pages/HomePage';
import { MonitorPage } from './pages/MonitorPage';
import { ProfilesPage } from './pages/ProfilesPage';
import { StackPage } from './pages/StackPage';
import { TelemetryPage } from './pages/TelemetryPage';
import { BoardsPage } from './pages/BoardsPage';
import { LabPage } from './pages/LabPage';
import { PackPage } from './pages/PackPage';

export interface PageEntry {
  id: string;
  title: string;
  icon: string;
  component: ComponentType;
}

export const PAGES: PageEntry[] = [
  { id: 'home', title: 'Home', icon: '⌂', component: HomePage },
  { id: 'profiles', title: 'Profiles', icon: '☰', component: ProfilesPage },
  { id: 'firmware', title: 'Firmware', icon: '⇪', component: FirmwarePage },
  { id: 'monitor', title: 'Monitor', icon: '≋', component: MonitorPage },
  { id: 'telemetry', title: 'Telemetry', icon: '∿', component: TelemetryPage },
  { id: 'stack', title: 'Stack', icon: '▤', component: StackPage },
  { id: 'doctor', title: 'Doctor', icon: '✚', component: DoctorPage },
  { id: 'boards', title: 'Boards', icon: '▣', component: BoardsPage },
  { id: 'lab', title: 'Lab', icon: '⚑', component: LabPage },
  { id: 'pack', title: 'Packs', icon: '▦', component: PackPage },
];

function currentPage(): string {
  const id = window.location.hash.replace(/^#\/?/, '');
  return PAGES.some((page) => page.id === id) ? id : 'home';
}

export function usePage(): [string, (id: string) => void] {
  const [page, setPage] = useState(currentPage);
  useEffect(() => {
    const update = () => setPage(currentPage());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return [page, setPage];
}
